using Npgsql;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Storage.Postgres;

/// <summary>
/// Cluster signals over PostgreSQL's LISTEN/NOTIFY: one dedicated connection per instance listens
/// on channel <c>voicevault</c>; a signal is a NOTIFY on a pooled connection. When the listening
/// connection breaks, signals sent meanwhile are lost, so subscribers get a reset on reconnecting.
/// </summary>
public sealed class PostgresSignals(string connectionString, ILogger<PostgresSignals> log) : BackgroundService, IClusterSignals
{
    private const string Channel = "voicevault";
    private readonly SignalSubscribers _subscribers = new();
    private readonly NpgsqlDataSource _senders = new NpgsqlDataSourceBuilder(connectionString) { Name = "voicevault-signals" }.Build();

    public void Subscribe(Action<string> handler) => _subscribers.Add(handler);

    public async Task SendAsync(string signal, CancellationToken cancellationToken = default)
    {
        await using var command = _senders.CreateCommand("SELECT pg_notify(@channel, @signal)");
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("signal", signal);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not pooled: a LISTEN belongs to this connection and must not go back to a pool.
        var listening = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 30, ApplicationName = "VoiceVault signals" }.ToString();
        bool first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(listening);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => _subscribers.Deliver(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                if (!first)
                {
                    _subscribers.Deliver(IClusterSignals.Reset);
                }
                first = false;
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.SignalsLost(e.Message);
                _subscribers.Deliver(IClusterSignals.Reset);
                first = false;
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override void Dispose()
    {
        _senders.Dispose();
        base.Dispose();
    }
}
