using System.Collections.Concurrent;
using VoiceVault.Server.Core;
using VoiceVault.Server.Api;
using VoiceVault.Server.Operations;

namespace VoiceVault.Server.Live;

/// <summary>What a recording of a live call was asked to be: channels, tracks, trim, callbacks; and who asked.</summary>
public sealed record LiveRecordingRequest(RecordingParameters Parameters, bool Trim, RecordingSource Source, Actor Actor)
{
    /// <summary>Twilio's <c>Trim</c>: trim-silence, or do-not-trim (the default).</summary>
    public static bool ParseTrim(string? trim) => trim switch
    {
        null or "" or "do-not-trim" => false,
        "trim-silence" => true,
        _ => throw Api.ApiException.BadParameter($"Trim must be trim-silence or do-not-trim; got '{trim}'", 20001),
    };
}

/// <summary>
/// A call streaming into this instance: its recordings (several may run at once, each started,
/// paused, resumed and stopped on its own) and the media time its frames have reached.
/// </summary>
public sealed class LiveCall(Account account, string callSid, LiveRecordingServices services)
{
    private readonly ConcurrentDictionary<string, LiveRecorder> _recorders = new(StringComparer.Ordinal);
    // What the frame path walks: a copy, replaced whole when a recording starts or stops.
    private volatile LiveRecorder[] _running = [];
    private readonly CancellationTokenSource _ended = new();

    public Account Account { get; } = account;

    public string CallSid { get; } = callSid;

    /// <summary>The newest media timestamp seen (ms since the stream started).</summary>
    public long NowMs { get; private set; }

    private bool _anyFrame;

    /// <summary>Cancelled when the call must end from outside (shutdown, limits).</summary>
    public CancellationToken Ending => _ended.Token;

    public void End() => _ended.Cancel();

    /// <summary>Starts a recording at the current media time; a recording that cannot be encrypted fails at once (16104).</summary>
    public async Task<Recording> StartRecordingAsync(LiveRecordingRequest request)
    {
        var p = request.Parameters;
        var (recording, plan) = await services.Lifecycle.BeginAsync(p.For(Account.Sid, CallSid, request.Source, p.Channels == "dual" ? 2 : 1), RecordingStatus.InProgress, Account.ParentSid, request.Actor);
        if (plan is null)
        {
            services.Log.NoUsableKey(recording.Sid, CallSid);
            return recording;
        }
        // A recording started mid-call begins with the next frame (frames are 20 ms).
        var recorder = new LiveRecorder(recording, plan, services.SpoolDir, _anyFrame ? NowMs + 20 : 0, p.Track is "inbound" or "both", p.Track is "outbound" or "both", request.Trim);
        lock (_recorders)
        {
            _recorders[recording.Sid] = recorder;
            _running = [.. _recorders.Values];
        }
        services.Log.LiveRecordingStarted(recording.Sid, CallSid, p.Channels, p.Track);
        return recording;
    }

    /// <summary>Takes one media frame for every recording running.</summary>
    public void Frame(int track, long timestampMs, ReadOnlySpan<byte> payload)
    {
        NowMs = Math.Max(NowMs, timestampMs);
        _anyFrame = true;
        int recorded = 0;
        foreach (var recorder in _running)
        {
            if (recorder.Accept(track, timestampMs, payload))
            {
                recorded++;
            }
        }
        if (recorded > 0)
        {
            services.Metrics.FramesRecorded.Add(recorded);
        }
    }

    public LiveRecorder? Find(string recordingSid) => _recorders.GetValueOrDefault(recordingSid);

    public async Task<Recording> PauseAsync(LiveRecorder recorder, bool skip, Actor actor)
    {
        recorder.Pause(NowMs, skip);
        return recorder.Recording = await services.Lifecycle.SetPausedAsync(recorder.Recording, paused: true, actor);
    }

    public async Task<Recording> ResumeAsync(LiveRecorder recorder, Actor actor)
    {
        recorder.Resume(NowMs);
        return recorder.Recording = await services.Lifecycle.SetPausedAsync(recorder.Recording, paused: false, actor);
    }

    /// <summary>
    /// Ends one recording: completed with its media, absent if it recorded nothing, failed (16104)
    /// if storing it failed. <paramref name="stoppedBy"/>: who asked (null when the call ended).
    /// </summary>
    public async Task<Recording> StopAsync(LiveRecorder recorder, Actor? stoppedBy = null)
    {
        bool removed;
        lock (_recorders)
        {
            removed = _recorders.TryRemove(recorder.Recording.Sid, out _);
            _running = [.. _recorders.Values];
        }
        if (!removed)
        {
            return (await services.Lifecycle.FindAsync(recorder.Recording.Sid))!;
        }
        await using (recorder)
        {
            var ended = await services.Lifecycle.FinishAsync(recorder.Recording, recorder.Plan,
                () => recorder.FinishAsync(services.Media, services.MasterKey, CancellationToken.None), stoppedBy: stoppedBy);
            switch (ended.Status)
            {
                case RecordingStatus.Completed:
                    services.Log.LiveRecordingStored(ended.Sid, CallSid, recorder.Frames, ended.Duration, ended.KeyMode?.Text());
                    break;
                case RecordingStatus.Absent:
                    services.Log.LiveRecordingAbsent(ended.Sid, CallSid);
                    break;
                default:
                    services.Log.LiveRecordingFailed(ended.Sid, CallSid, ended.Status.Text(), ended.ErrorCode);
                    break;
            }
            return ended;
        }
    }

    /// <summary>The call ended: every recording still running is stopped.</summary>
    public async Task EndAllAsync()
    {
        foreach (var recorder in _recorders.Values.ToList())
        {
            await StopAsync(recorder);
        }
    }
}

/// <summary>The calls streaming into this instance, by account and call SID; ends them all on shutdown.</summary>
public sealed class LiveCalls
{
    private readonly ConcurrentDictionary<(string, string), LiveCall> _calls = new();
    private readonly LiveRecordingServices _services;
    private readonly IInstanceStore _instances;
    private readonly string _instance;

    public LiveCalls(LiveRecordingServices services, IInstanceStore instances, VaultOptions options, IHostApplicationLifetime lifetime, Operations.VaultMetrics metrics)
    {
        _services = services;
        // What an operator watches to drain an instance before a restart (a restart ends its calls).
        metrics.ObserveActiveStreams(() => _calls.Count);
        _instances = instances;
        _instance = options.InstanceId;
        // A clean shutdown ends every live call: recordings are stored and their callbacks queued.
        lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var call in _calls.Values)
            {
                call.End();
            }
        });
    }

    public int Count => _calls.Count;

    public LiveCall? Find(string accountSid, string callSid) => _calls.GetValueOrDefault((accountSid, callSid));

    /// <summary>
    /// Registers a new stream, here and in the database (so that recording control reaching
    /// another instance is sent here); null when the call is already streaming here.
    /// </summary>
    public async Task<LiveCall?> OpenAsync(Account account, string callSid)
    {
        var call = new LiveCall(account, callSid, _services);
        if (!_calls.TryAdd((account.Sid, callSid), call))
        {
            return null;
        }
        try
        {
            await _instances.SetLiveCallAsync(account.Sid, callSid, _instance);
        }
        catch
        {
            _calls.TryRemove(new KeyValuePair<(string, string), LiveCall>((account.Sid, callSid), call));
            throw;
        }
        return call;
    }

    public async Task CloseAsync(LiveCall call)
    {
        if (_calls.TryRemove(new KeyValuePair<(string, string), LiveCall>((call.Account.Sid, call.CallSid), call)))
        {
            await _instances.EndLiveCallAsync(call.Account.Sid, call.CallSid, _instance);
        }
    }
}
