using System.Security.Cryptography;
using VoiceVault.Crypto;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Live;

/// <summary>
/// One recording of a live call. Frames are encrypted the moment they arrive, into a spool file
/// under a key that exists only in this object's memory (a process crash leaves ciphertext nobody
/// can read). When the recording ends, the spool is decrypted in memory, placed on the timeline
/// (<see cref="TimelineRenderer"/>) and encrypted again, WAV header first — now that the length is
/// known — under the recording's own CEK, into the media store. See docs/format.md, "Live calls".
/// </summary>
public sealed class LiveRecorder : IAsyncDisposable
{
    private const int SamplesPerMs = 8;
    private const int SmallFrame = 480;
    private readonly string _spoolPath;
    private readonly FileStream _spoolFile;
    private readonly ContentKey _spoolKey = ContentKey.Generate();
    private readonly byte[] _spoolIv = RecordingFormat.NewIv();
    private readonly RecordingEncryptor _spool;
    // Frames arrive on the call's receive loop; pause, resume and stop come from the API.
    private readonly Lock _sync = new();
    private long _pausedAtMs = -1;
    private long _skippedMs;
    private bool _skipWhilePaused;
    private bool _ended;

    public LiveRecorder(Recording recording, EncryptionPlan plan, string spoolDir, long startMs, bool inbound, bool outbound, bool trim)
    {
        Recording = recording;
        Plan = plan;
        StartMs = startMs;
        Inbound = inbound;
        Outbound = outbound;
        Trim = trim;
        Directory.CreateDirectory(spoolDir);
        _spoolPath = Path.Combine(spoolDir, recording.Sid + ".spool");
        // Written synchronously from the receive loop: an 8 KiB write into the page cache about
        // twice a second per call costs less than handing each to the thread pool.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        _spoolFile = new FileStream(_spoolPath, options);
        _spool = new RecordingEncryptor(_spoolFile, _spoolKey, _spoolIv, leaveOpen: true, bufferSize: 8 * 1024);
    }

    public Recording Recording { get; set; }

    public EncryptionPlan Plan { get; }

    /// <summary>The call's media time (ms) at which this recording's timeline starts.</summary>
    public long StartMs { get; }

    public bool Inbound { get; }

    public bool Outbound { get; }

    public bool Trim { get; }

    public bool Paused => _pausedAtMs >= 0;

    public long Frames { get; private set; }

    /// <summary>One past the last sample any frame covered.</summary>
    public long EndSample { get; private set; }

    /// <summary>First and one-past-last non-silent sample (for Trim=trim-silence); -1 while all is silence.</summary>
    public long FirstVoice { get; private set; } = -1;

    public long LastVoiceEnd { get; private set; }

    /// <summary>Takes one frame at the call's media time <paramref name="timestampMs"/>; true when it was recorded.</summary>
    public bool Accept(int track, long timestampMs, ReadOnlySpan<byte> payload)
    {
        if (track == 0 ? !Inbound : !Outbound)
        {
            return false;
        }
        lock (_sync)
        {
            long position = (timestampMs - StartMs - _skippedMs) * SamplesPerMs;
            if (_ended || Paused || position < 0)
            {
                return false;
            }
            // One cipher call per frame for the common sizes (Twilio's are 160 bytes); two for larger ones.
            Span<byte> record = stackalloc byte[SpoolRecord.HeaderSize + SmallFrame];
            SpoolRecord.WriteHeader(record, track, payload.Length, position);
            if (payload.Length <= SmallFrame)
            {
                payload.CopyTo(record[SpoolRecord.HeaderSize..]);
                _spool.Write(record[..(SpoolRecord.HeaderSize + payload.Length)]);
                CryptographicOperations.ZeroMemory(record);
            }
            else
            {
                _spool.Write(record[..SpoolRecord.HeaderSize]);
                _spool.Write(payload);
            }
            Frames++;
            EndSample = Math.Max(EndSample, position + payload.Length);
            if (Trim)
            {
                TrackVoice(payload, position);
            }
            return true;
        }
    }

    // Where the first and last non-silent samples are, for Trim=trim-silence.
    private void TrackVoice(ReadOnlySpan<byte> span, long position)
    {
        for (int i = 0; i < span.Length; i++)
        {
            if (Mulaw.Decode(span[i]) != 0)
            {
                FirstVoice = FirstVoice < 0 ? position + i : Math.Min(FirstVoice, position + i);
                break;
            }
        }
        for (int i = span.Length - 1; i >= 0; i--)
        {
            if (Mulaw.Decode(span[i]) != 0)
            {
                LastVoiceEnd = Math.Max(LastVoiceEnd, position + i + 1);
                break;
            }
        }
    }

    /// <summary>Pauses at media time <paramref name="nowMs"/>: skip drops the paused time from the recording, silence keeps it as silence.</summary>
    public void Pause(long nowMs, bool skip)
    {
        lock (_sync)
        {
            if (!Paused)
            {
                _pausedAtMs = nowMs;
                _skipWhilePaused = skip;
            }
        }
    }

    public void Resume(long nowMs)
    {
        lock (_sync)
        {
            if (Paused)
            {
                if (_skipWhilePaused)
                {
                    _skippedMs += Math.Max(0, nowMs - _pausedAtMs);
                }
                _pausedAtMs = -1;
            }
        }
    }

    /// <summary>
    /// Ends the recording: renders the spool into the final encrypted WAV in the media store.
    /// Returns what was stored, or null when no audio was recorded (the recording is absent).
    /// </summary>
    public async Task<StoredMedia?> FinishAsync(IMediaStore media, MasterKey masterKey, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            _ended = true;
            _spool.Complete();
        }
        if (Frames == 0)
        {
            return null;
        }
        long from = Trim ? Math.Max(0, FirstVoice) : 0;
        long to = Trim ? (FirstVoice < 0 ? 0 : LastVoiceEnd) : EndSample;
        int channels = Recording.Channels;
        long dataBytes = (to - from) * 2 * channels;
        if (dataBytes > uint.MaxValue - 36)
        {
            throw new InvalidOperationException("The recording is too long for a WAV file.");
        }

        // Rendered in one synchronous pass: the spool is in the page cache and the encryptor gathers
        // its output into large writes, so an asynchronous pass would only add a thread-pool trip
        // per chunk, each waiting behind every live call's frames when the machine is busy.
        return await Plan.StoreAsync(Recording, RecordingLifecycle.MediaKeyOf(Recording), media, masterKey, encryptor =>
        {
            Span<byte> header = stackalloc byte[44];
            WavHeader.Write(header, channels, 8000, dataBytes);
            encryptor.Write(header);
            using var renderer = new TimelineRenderer(encryptor, channels, from, to);
            _spoolFile.Position = 0;
            RecordingDecryptor.DecryptOnCallingThread(_spoolFile, renderer, _spoolKey, _spoolIv, cancellationToken);
            renderer.Finish();
            return Task.CompletedTask;
        }, channels, _ => (int)Math.Round((to - from) / 8000.0, MidpointRounding.AwayFromZero), cancellationToken);
    }

    /// <summary>Drops the spool: its key goes with this object, its file is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_sync)
        {
            _ended = true;
        }
        await _spool.DisposeAsync();
        await _spoolFile.DisposeAsync();
        _spoolKey.Dispose();
        Plan.Dispose();
        try
        {
            File.Delete(_spoolPath);
        }
        catch (IOException)
        {
            // Unreadable without its key; the next start removes it.
        }
    }
}
