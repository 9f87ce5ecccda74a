using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>Live calls over Twilio Media Streams: recorded into ciphertext while the call goes on.</summary>
public sealed class LiveRecordingTests
{
    // What a faithful recorder makes of the frames: each sample at its timestamp, silence where no
    // frame was, the first copy of a duplicate, tracks mixed (clipped) or side by side.
    internal static byte[] Expected(Dictionary<long, byte[]> inbound, Dictionary<long, byte[]> outbound, int channels)
    {
        long samples = new[] { inbound, outbound }.SelectMany(t => t.Keys).Max() * 8 + 160;
        var pcm = new byte[samples * 2 * channels];
        for (long s = 0; s < samples; s++)
        {
            short In(Dictionary<long, byte[]> track) => track.TryGetValue(s / 160 * 20, out var f) ? MediaStream.Decode(f[s % 160]) : (short)0;
            short a = In(inbound), b = In(outbound);
            if (channels == 1)
            {
                BitConverter.TryWriteBytes(pcm.AsSpan((int)s * 2), (short)Math.Clamp(a + b, short.MinValue, short.MaxValue));
            }
            else
            {
                BitConverter.TryWriteBytes(pcm.AsSpan((int)s * 4), a);
                BitConverter.TryWriteBytes(pcm.AsSpan((int)s * 4 + 2), b);
            }
        }
        return VoiceVault.Tests.Shared.TestWav.Build(pcm, channels);
    }

    [Theory]
    [InlineData("mono")]
    [InlineData("dual")]
    public async Task A_two_party_call_with_gaps_duplicates_and_reordering_decrypts_to_the_faithful_recording(string channels)
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        using var rsa = (await vault.EnableEncryptionAsync()).Key;
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new()
        {
            ["RecordingChannels"] = channels,
            ["RecordingStatusCallback"] = receiver.Url,
            ["RecordingStatusCallbackEvent"] = "in-progress completed",
        });

        var inbound = new Dictionary<long, byte[]>();
        var outbound = new Dictionary<long, byte[]>();
        const int frames = 75;
        var sends = new List<(string Track, long Ts, byte[] Payload)>();
        for (int i = 0; i < frames; i++)
        {
            long ts = i * 20;
            if (i != 5 && i != 40)
            {
                inbound[ts] = MediaStream.Frame(); // frames 5 and 40 are lost
            }
            if (i < frames - 3)
            {
                outbound[ts] = MediaStream.Frame(); // outbound ends 60 ms early
            }
        }
        foreach (var ts in Enumerable.Range(0, frames).Select(i => i * 20L))
        {
            if (inbound.TryGetValue(ts, out var a))
            {
                sends.Add(("inbound", ts, a));
            }
            if (outbound.TryGetValue(ts, out var b))
            {
                sends.Add(("outbound", ts, b));
            }
        }
        // Reordered: inbound 300 ms after 320 ms, and outbound 1000 ms after 1100 ms.
        int at300 = sends.FindIndex(s => s is { Track: "inbound", Ts: 300 });
        (sends[at300], sends[at300 + 2]) = (sends[at300 + 2], sends[at300]);
        var late = sends.Single(s => s is { Track: "outbound", Ts: 1000 });
        sends.Remove(late);
        sends.Insert(sends.FindIndex(s => s is { Track: "outbound", Ts: 1100 }) + 1, late);
        // Duplicated: outbound 200 ms again later with other bytes (the first copy counts), inbound 600 ms resent as is.
        sends.Insert(sends.FindIndex(s => s.Ts == 400), ("outbound", 200, MediaStream.Frame()));
        sends.Insert(sends.FindIndex(s => s.Ts == 700), ("inbound", 600, inbound[600]));
        foreach (var (track, ts, payload) in sends)
        {
            await stream.MediaAsync(track, ts, payload);
        }
        await stream.StopAsync();

        var (recording, wav) = await vault.FetchAndDecryptAsync(stream.CallSid, rsa);
        int channelCount = channels == "dual" ? 2 : 1;
        Assert.Equal(channelCount, recording.GetProperty("channels").GetInt32());
        Assert.Equal(Expected(inbound, outbound, channelCount), wav);

        var callbacks = await receiver.WaitForAsync(2);
        Assert.Equal(["in-progress", "completed"], callbacks.Select(c => c.Parameters["RecordingStatus"]));
        Assert.All(callbacks, c => Assert.Equal(stream.CallSid, c.Parameters["CallSid"]));
        Assert.False(callbacks[0].Parameters.ContainsKey("EncryptionDetails"));
        // The completed callback carries the same details as the resource (the recording is encrypted to the customer's key).
        var resourceDetails = EncryptionDetails.Parse(recording.GetRawText());
        var callbackDetails = EncryptionDetails.Parse(callbacks[1].Parameters["EncryptionDetails"]);
        Assert.Equal(resourceDetails.PublicKeySid, callbackDetails.PublicKeySid);
        Assert.Equal(resourceDetails.EncryptedCek, callbackDetails.EncryptedCek);
        Assert.Equal(resourceDetails.Iv, callbackDetails.Iv);
        Assert.Equal("2", callbacks[1].Parameters["RecordingDuration"]);
    }

    [Fact]
    public async Task The_calls_streaming_into_an_instance_are_counted_for_draining()
    {
        await using var vault = await VaultServer.StartAsync();
        // Each instance counts its own; through a balancer, the vault's are their sum.
        Task<double> ActiveAsync() => vault.MetricAsync("voicevault_stream_active");
        Assert.Equal(0, await ActiveAsync());
        await using var first = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await first.StartAsync(new() { ["Record"] = "false" });
        await using var second = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await second.StartAsync(new() { ["Record"] = "false" });
        await Eventually.TrueAsync(async () => await ActiveAsync() == 2, "two calls streaming");
        await first.StopAsync();
        await Eventually.TrueAsync(async () => await ActiveAsync() == 1, "one call left");
        await second.StopAsync();
        await Eventually.TrueAsync(async () => await ActiveAsync() == 0, "none left");
    }

    [Fact]
    public async Task No_plaintext_audio_is_on_disk_while_the_call_is_live_or_after()
    {
        await using var vault = await VaultServer.StartAsync();
        using var rsa = (await vault.EnableEncryptionAsync()).Key;
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync();
        var marker = Encoding.ASCII.GetBytes("VOICEVAULT-PLAINTEXT-MARKER");
        var sent = new MemoryStream();
        var pcm = new MemoryStream();
        for (int i = 0; i < 250; i++) // 5 s: more than the spool gathers before it writes
        {
            var frame = MediaStream.Frame();
            marker.CopyTo(frame, 40);
            sent.Write(frame);
            foreach (var b in frame)
            {
                pcm.Write(BitConverter.GetBytes(MediaStream.Decode(b)));
            }
            await stream.MediaAsync("inbound", i * 20, frame);
        }
        await vault.WaitForFramesAsync(250);
        // The spool has gathered and written what the frames became (ciphertext) while the call is live.
        List<(string Path, byte[] Content)> live = [];
        await Eventually.TrueAsync(() => (live = vault.DataFiles().ToList()).Any(f => f.Path.Contains("spool", StringComparison.Ordinal) && f.Content.Length > 16 * 1024),
            "the live call's spool holds more than 16 KiB");
        foreach (var (path, content) in live)
        {
            Assert.False(content.AsSpan().IndexOf(marker) >= 0, $"{path} holds the marker while the call is live");
            Assert.False(Audio.ContainsAnyRun(content, sent.ToArray()), $"{path} holds μ-law audio while the call is live");
            Assert.False(Audio.ContainsAnyRun(content, pcm.ToArray()), $"{path} holds PCM while the call is live");
        }
        await stream.StopAsync();
        var after = vault.DataFiles().ToList();
        Assert.DoesNotContain(after, f => f.Path.Contains(".spool", StringComparison.Ordinal));
        foreach (var (path, content) in after)
        {
            Assert.False(content.AsSpan().IndexOf(marker) >= 0, $"{path} holds the marker after the call");
            Assert.False(Audio.ContainsAnyRun(content, sent.ToArray()), $"{path} holds μ-law audio after the call");
            Assert.False(Audio.ContainsAnyRun(content, pcm.ToArray()), $"{path} holds PCM after the call");
        }
        var (_, wav) = await vault.FetchAndDecryptAsync(stream.CallSid, rsa);
        Assert.True(wav.AsSpan().IndexOf(pcm.ToArray().AsSpan(40 * 2, 64)) >= 0, "the recording holds the audio");
    }
}

public sealed class LiveRecordingControlTests
{
    internal static byte[] Mono(IEnumerable<byte[]> frames)
    {
        var pcm = new MemoryStream();
        foreach (var b in frames.SelectMany(f => f))
        {
            pcm.Write(BitConverter.GetBytes(MediaStream.Decode(b)));
        }
        return VoiceVault.Tests.Shared.TestWav.Build(pcm.ToArray(), 1);
    }

    [Fact]
    public async Task The_Twilio_SDK_starts_pauses_resumes_and_stops_recordings_of_a_streaming_call()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        var client = vault.Twilio();
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new() { ["Record"] = "false" });
        var frames = Enumerable.Range(0, 200).Select(i => i is >= 50 and < 60 or >= 190 ? Enumerable.Repeat((byte)0xFF, 160).ToArray() : MediaStream.Frame()).ToArray();
        // The REST calls travel on another connection: wait until the vault has taken every frame sent.
        async Task SendAsync(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                await stream.MediaAsync("inbound", i * 20, frames[i]);
            }
            await vault.WaitForFramesAsync(to);
        }

        await SendAsync(0, 50); // streaming, nothing recorded yet
        var events = new List<string> { "in-progress", "completed" };
        Twilio.Rest.Api.V2010.Account.Call.RecordingResource Start(string trim) => Twilio.Rest.Api.V2010.Account.Call.RecordingResource.Create(
            pathCallSid: stream.CallSid, recordingStatusCallback: new Uri(receiver.Url), recordingStatusCallbackEvent: events, trim: trim, client: client);
        var skip = Start("do-not-trim");
        var silence = Start("do-not-trim");
        var trimmed = Start("trim-silence");
        Assert.Equal(Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.InProgress, skip.Status);
        Assert.Equal(stream.CallSid, skip.CallSid);

        await SendAsync(50, 100);
        var paused = await Twilio.Rest.Api.V2010.Account.Call.RecordingResource.UpdateAsync(pathCallSid: stream.CallSid, pathSid: skip.Sid,
            status: Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.Paused, pauseBehavior: "skip", client: client);
        Assert.Equal(Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.Paused, paused.Status);
        await Twilio.Rest.Api.V2010.Account.Call.RecordingResource.UpdateAsync(pathCallSid: stream.CallSid, pathSid: silence.Sid,
            status: Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.Paused, pauseBehavior: "silence", client: client);
        await SendAsync(100, 150);
        foreach (var sid in new[] { skip.Sid, silence.Sid })
        {
            var resumed = await Twilio.Rest.Api.V2010.Account.Call.RecordingResource.UpdateAsync(pathCallSid: stream.CallSid, pathSid: sid,
                status: Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.InProgress, client: client);
            Assert.Equal(Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.InProgress, resumed.Status);
        }
        await SendAsync(150, 200);
        var stopped = await Twilio.Rest.Api.V2010.Account.Call.RecordingResource.UpdateAsync(pathCallSid: stream.CallSid, pathSid: skip.Sid,
            status: Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.Stopped, client: client);
        Assert.Equal(Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.Completed, stopped.Status);
        // A stopped recording cannot be resumed.
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() => Twilio.Rest.Api.V2010.Account.Call.RecordingResource.UpdateAsync(
            pathCallSid: stream.CallSid, pathSid: skip.Sid, status: Twilio.Rest.Api.V2010.Account.Call.RecordingResource.StatusEnum.InProgress, client: client));
        Assert.Equal(21220, ex.Code);
        await stream.StopAsync(); // ends the other two

        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        async Task<byte[]> WavOf(string sid) => await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{sid}.wav");
        // skip: the paused second is gone; silence: it is there as silence; trim-silence: no silent frames at either end.
        Assert.Equal(Mono(frames[50..100].Concat(frames[150..200])), await WavOf(skip.Sid));
        Assert.Equal(Mono(frames[50..100].Concat(Enumerable.Repeat(new byte[160].Select(_ => (byte)0xFF).ToArray(), 50)).Concat(frames[150..200])), await WavOf(silence.Sid));
        Assert.Equal(Mono(frames[60..190]), await WavOf(trimmed.Sid));

        var callbacks = await receiver.WaitForAsync(6);
        foreach (var sid in new[] { skip.Sid, silence.Sid, trimmed.Sid })
        {
            Assert.Equal(["in-progress", "completed"], callbacks.Where(c => c.Parameters["RecordingSid"] == sid).Select(c => c.Parameters["RecordingStatus"]));
        }
        Assert.Equal("2", callbacks.Single(c => c.Parameters["RecordingSid"] == skip.Sid && c.Parameters["RecordingStatus"] == "completed").Parameters["RecordingDuration"]);
        var listed = Twilio.Rest.Api.V2010.Account.Call.RecordingResource.Read(pathCallSid: stream.CallSid, client: client).Select(r => r.Sid).ToHashSet();
        Assert.Equal(new HashSet<string> { skip.Sid, silence.Sid, trimmed.Sid }, listed);
    }

    [Fact]
    public async Task Starting_a_recording_on_a_call_that_is_not_streaming_is_refused()
    {
        await using var vault = await VaultServer.StartAsync();
        var ex = await Assert.ThrowsAsync<Twilio.Exceptions.ApiException>(() =>
            Twilio.Rest.Api.V2010.Account.Call.RecordingResource.CreateAsync(pathCallSid: Audio.CallSid(), client: vault.Twilio()));
        Assert.Equal(21220, ex.Code);
        Assert.Contains("not streaming", ex.Message, StringComparison.Ordinal);
    }
}
