using Npgsql;
using VoiceVault.Server.Core;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Storage.Postgres;

/// <summary>
/// Cluster signals over PostgreSQL's LISTEN/NOTIFY: one dedicated connection per instance listens
/// on the vault's channel; a signal is a NOTIFY on a pooled connection. When the listening
/// connection breaks, signals sent meanwhile are lost, so subscribers get a reset on reconnecting.
/// Channels are per database, so the channel is named after the vault's schema too: two vaults in
/// one database (each in its own schema, <c>Search Path</c>) never hear each other's signals.
/// </summary>
public sealed class PostgresSignals(string connectionString, ILogger<PostgresSignals> log) : BackgroundService, IClusterSignals
{
    private readonly string _channel = ChannelOf(connectionString);
    private readonly SignalSubscribers _subscribers = new();
    private readonly NpgsqlDataSource _senders = new NpgsqlDataSourceBuilder(connectionString) { Name = "voicevault-signals" }.Build();

    public void Subscribe(Action<string> handler) => _subscribers.Add(handler);

    /// <summary><c>voicevault</c>, or <c>voicevault:</c> and the schema the connection string puts first in its search path.</summary>
    public static string ChannelOf(string connectionString)
    {
        var schema = new NpgsqlConnectionStringBuilder(connectionString).SearchPath?.Split(',')[0].Trim().Trim('"');
        if (string.IsNullOrEmpty(schema))
        {
            return "voicevault";
        }
        // An identifier holds 63 bytes; a longer schema name is told apart by its hash.
        var channel = "voicevault:" + schema;
        return System.Text.Encoding.UTF8.GetByteCount(channel) <= 63
            ? channel
            : "voicevault:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(schema)))[..40];
    }

    public async Task SendAsync(string signal, CancellationToken cancellationToken = default)
    {
        await using var command = _senders.CreateCommand("SELECT pg_notify(@channel, @signal)");
        command.Parameters.AddWithValue("channel", _channel);
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
                await using (var listen = new NpgsqlCommand("LISTEN \"" + _channel.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"", connection))
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
