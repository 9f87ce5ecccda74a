using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace VoiceVault.Server.Tests;

/// <summary>Live calls when the vault process stops: cleanly (SIGTERM) or not at all (kill -9).</summary>
public sealed class LiveCrashTests
{
    private static readonly Dictionary<string, string> AllEvents = new() { ["RecordingStatusCallbackEvent"] = "in-progress completed absent failed" };

    private static async Task<List<MediaStream>> StartCallsAsync(VaultProcess vault, string sid, string token, int calls, string callbackUrl, byte[] frame)
    {
        var streams = new List<MediaStream>();
        for (int i = 0; i < calls; i++)
        {
            var stream = await MediaStream.ConnectAsync(vault.BaseUri, sid, token);
            await stream.StartAsync(new(AllEvents) { ["RecordingStatusCallback"] = callbackUrl });
            streams.Add(stream);
        }
        // 2 s of both tracks on every call, interleaved as real calls are.
        for (int t = 0; t < 100; t++)
        {
            foreach (var stream in streams)
            {
                await stream.MediaAsync("inbound", t * 20, frame);
                await stream.MediaAsync("outbound", t * 20, frame);
            }
        }
        await VaultServer.WaitForFramesAsync([vault.BaseUri], calls * 200);
        return streams;
    }

    [Fact]
    public async Task Kill_9_during_20_live_calls_leaves_nothing_readable_and_every_recording_fails_with_its_callback()
    {
        using var instance = new VaultProcess.Instance();
        var (dataDir, sid, token) = (instance.DataDir, instance.Sid, instance.Token);
        await using var receiver = await CallbackReceiver.StartAsync();
        var frame = MediaStream.Frame();
        var marker = Encoding.ASCII.GetBytes("VOICEVAULT-PLAINTEXT-MARKER");
        marker.CopyTo(frame, 50);
        var pcm = frame.SelectMany(b => BitConverter.GetBytes(MediaStream.Decode(b))).ToArray();
        List<MediaStream> streams;
        using (var vault = await instance.StartAsync())
        {
            streams = await StartCallsAsync(vault, sid, token, 20, receiver.Url, frame);
            var started = await receiver.WaitForAsync(20);
            Assert.All(started, c => Assert.Equal("in-progress", c.Parameters["RecordingStatus"]));
            vault.Signal("KILL");
            Assert.True(vault.WaitForExit(TimeSpan.FromSeconds(10)));
        }
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
        // What the dead process left: spools of ciphertext whose key died with it, nothing else of the audio.
        var left = Directory.EnumerateFiles(dataDir, "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(20, left.Count(f => f.EndsWith(".spool", StringComparison.Ordinal)));
        foreach (var file in left)
        {
            var content = File.ReadAllBytes(file);
            Assert.False(content.AsSpan().IndexOf(marker) >= 0, $"{file} holds the marker");
            Assert.False(content.AsSpan().IndexOf(frame.AsSpan(0, 64)) >= 0, $"{file} holds μ-law audio");
            Assert.False(content.AsSpan().IndexOf(pcm.AsSpan(0, 64)) >= 0, $"{file} holds PCM");
        }

        // And a spool whose recording had already ended when the process died (between ending it and deleting the spool).
        File.WriteAllBytes(Path.Combine(dataDir, "spool", "RE" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)) + ".spool"), new byte[100]);

        using (var restarted = await instance.StartAsync())
        {
            var callbacks = await receiver.WaitForAsync(40, TimeSpan.FromSeconds(60));
            var ended = callbacks.Skip(20).ToList();
            Assert.All(ended, c => Assert.Equal("failed", c.Parameters["RecordingStatus"]));
            Assert.All(ended, c => Assert.Equal("16104", c.Parameters["ErrorCode"]));
            Assert.Equal(streams.Select(s => s.CallSid).Order(), ended.Select(c => c.Parameters["CallSid"]).Order());
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(dataDir, "spool")));
            using var http = restarted.Http(sid, token);
            var recordings = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{sid}/Recordings.json?PageSize=50")).RootElement.GetProperty("recordings");
            Assert.Equal(20, recordings.GetArrayLength());
            Assert.All(recordings.EnumerateArray(), r => Assert.Equal(16104, r.GetProperty("error_code").GetInt32()));
            var notifications = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{sid}/Notifications.json?PageSize=50")).RootElement.GetProperty("notifications");
            Assert.Equal(20, notifications.GetArrayLength());
        }
    }

    [Fact]
    public async Task Restarting_one_instance_leaves_another_instances_upload_in_progress_alone()
    {
        using var instance = new VaultProcess.Instance();
        // Two instances sharing one data folder's media files (the S3 store has no such sharing).
        using var a = await instance.StartAsync("--VoiceVault:InstanceId", "a", "--VoiceVault:Media", "files");
        using var http = a.Http(instance.Sid, instance.Token);
        var wav = Audio.Wav(10);
        // Watched before the upload starts, so its temporary file's creation cannot be missed: the
        // account's folder is made first (a file made at once in a new folder can escape a watch).
        var media = Path.Combine(instance.DataDir, "media");
        Directory.CreateDirectory(Path.Combine(media, instance.Sid));
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(media) { IncludeSubdirectories = true, EnableRaisingEvents = true };
        FileSystemEventHandler seen = (_, _) =>
        {
            if (Directory.EnumerateFiles(media, "*.partial", SearchOption.AllDirectories).Any())
            {
                writing.TrySetResult();
            }
        };
        watcher.Created += seen;
        watcher.Changed += seen;
        var upload = new HeldUpload(http, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording");
        await upload.SendAsync(wav.AsMemory(0, 70_000));
        // A is writing its object: the temporary file is there.
        await writing.Task.WaitAsync(TimeSpan.FromSeconds(20));
        // B starts on the same data folder, is killed, and starts again (its start removes its own leftovers only).
        using (var b = await instance.StartAsync("--VoiceVault:InstanceId", "b", "--VoiceVault:Media", "files"))
        {
            b.Signal("KILL");
            Assert.True(b.WaitForExit(TimeSpan.FromSeconds(10)));
        }
        using var again = await instance.StartAsync("--VoiceVault:InstanceId", "b", "--VoiceVault:Media", "files");
        Assert.Single(Directory.EnumerateFiles(media, "*.partial", SearchOption.AllDirectories));

        var (status, body) = await upload.FinishAsync(wav.AsMemory(70_000));
        Assert.Equal(System.Net.HttpStatusCode.Created, status);
        Assert.Equal("completed", body.GetProperty("status").GetString());
        // Stored whole: the server-managed key's media comes back as the WAV that was sent.
        using var other = again.Http(instance.Sid, instance.Token);
        Assert.Equal(wav, await other.GetByteArrayAsync($"/2010-04-01/Accounts/{instance.Sid}/Recordings/{body.GetProperty("sid").GetString()}.wav"));
        Assert.Empty(Directory.EnumerateFiles(media, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Restarting_one_instance_leaves_another_instances_live_calls_alone()
    {
        using var instance = new VaultProcess.Instance();
        await using var receiver = await CallbackReceiver.StartAsync();
        using var a = await instance.StartAsync("--VoiceVault:InstanceId", "a");
        var streams = await StartCallsAsync(a, instance.Sid, instance.Token, 2, receiver.Url, MediaStream.Frame());
        await receiver.WaitForAsync(2);
        // B starts on the same database and data folder, is killed, and starts again: A's calls go on.
        using (var b = await instance.StartAsync("--VoiceVault:InstanceId", "b"))
        {
            b.Signal("KILL");
            Assert.True(b.WaitForExit(TimeSpan.FromSeconds(10)));
        }
        using var again = await instance.StartAsync("--VoiceVault:InstanceId", "b");
        Assert.Equal(2, Directory.EnumerateFiles(Path.Combine(instance.DataDir, "spool")).Count());
        foreach (var stream in streams)
        {
            await stream.MediaAsync("inbound", 2000, MediaStream.Frame());
            await stream.StopAsync();
        }
        var ended = (await receiver.WaitForAsync(4, TimeSpan.FromSeconds(30))).Skip(2).ToList();
        Assert.All(ended, c => Assert.Equal("completed", c.Parameters["RecordingStatus"]));
        Assert.All(ended, c => Assert.Equal("2", c.Parameters["RecordingDuration"]));
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_live_calls_of_an_instance_that_died_are_ended_by_another_once_its_lease_runs_out()
    {
        using var instance = new VaultProcess.Instance();
        await using var receiver = await CallbackReceiver.StartAsync();
        string[] lease = ["--VoiceVault:InstanceLeaseSeconds", "3"];
        using var b = await instance.StartAsync(["--VoiceVault:InstanceId", "b", .. lease]);
        List<MediaStream> streams;
        using (var a = await instance.StartAsync(["--VoiceVault:InstanceId", "a", .. lease]))
        {
            streams = await StartCallsAsync(a, instance.Sid, instance.Token, 3, receiver.Url, MediaStream.Frame());
            await receiver.WaitForAsync(3);
            a.Signal("KILL");
            Assert.True(a.WaitForExit(TimeSpan.FromSeconds(10)));
        }
        // Nobody restarts A: B notices its heartbeat stopped and ends its recordings, once each.
        var ended = (await receiver.WaitForAsync(6, TimeSpan.FromSeconds(30))).Skip(3).ToList();
        Assert.All(ended, c => Assert.Equal("failed", c.Parameters["RecordingStatus"]));
        Assert.All(ended, c => Assert.Equal("16104", c.Parameters["ErrorCode"]));
        Assert.Equal(streams.Select(s => s.CallSid).Order(), ended.Select(c => c.Parameters["CallSid"]).Order());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(instance.DataDir, "spool")));
        // Two more rounds of B's (each writes its heartbeat, then looks for the dead): nothing is ended twice.
        var seen = new HashSet<string?> { await TestDatabase.ScalarAsync(instance.DataDir, "SELECT heartbeat_at FROM instances WHERE id = 'b'") };
        await Eventually.TrueAsync(async () => seen.Add(await TestDatabase.ScalarAsync(instance.DataDir, "SELECT heartbeat_at FROM instances WHERE id = 'b'")) && seen.Count >= 3,
            "two more heartbeat rounds of B");
        Assert.Equal("6", await TestDatabase.ScalarAsync(instance.DataDir, "SELECT COUNT(*) FROM outbox"));
        Assert.Equal(6, receiver.Requests.Count);
        using var http = b.Http(instance.Sid, instance.Token);
        var notifications = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{instance.Sid}/Notifications.json")).RootElement.GetProperty("notifications");
        Assert.Equal(3, notifications.GetArrayLength());
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task SIGTERM_completes_live_recordings_and_sends_their_callbacks_before_exiting()
    {
        using var instance = new VaultProcess.Instance();
        var (dataDir, sid, token) = (instance.DataDir, instance.Sid, instance.Token);
        await using var receiver = await CallbackReceiver.StartAsync();
        using var vault = await instance.StartAsync();
        var streams = await StartCallsAsync(vault, sid, token, 3, receiver.Url, MediaStream.Frame());
        await receiver.WaitForAsync(3);
        vault.Signal("TERM");
        Assert.True(vault.WaitForExit(TimeSpan.FromSeconds(30)), "the vault did not exit after SIGTERM");
        Assert.Equal(0, vault.ExitCode);
        // The completed callbacks left before the process did.
        var ended = (await receiver.WaitForAsync(6, TimeSpan.FromSeconds(10))).Skip(3).ToList();
        Assert.All(ended, c => Assert.Equal("completed", c.Parameters["RecordingStatus"]));
        Assert.All(ended, c => Assert.Equal("2", c.Parameters["RecordingDuration"]));
        Assert.Equal(3, (await TestMedia.EverythingAsync(dataDir)).Count);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(dataDir, "spool")));
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }
}
