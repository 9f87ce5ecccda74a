using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>docs/api.md §9: the documented failure behaviour, end to end, with callbacks and notifications.</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task A_deleted_configured_key_falls_back_to_the_newest_usable_key_with_warning_16107()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        using var older = RSA.Create(2048);
        using var configured = RSA.Create(2048);
        using var newest = RSA.Create(2048);
        var olderSid = await vault.AddKeyAsync(older);
        var configuredSid = await vault.AddKeyAsync(configured);
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, configuredSid);
        var newestSid = await vault.AddKeyAsync(newest);
        await PublicKeyResource.DeleteAsync(pathSid: configuredSid, client: vault.Twilio());

        var wav = Audio.Wav(2);
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav, $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("completed", body.GetProperty("status").GetString());
        var details = EncryptionDetails.Parse(body.GetRawText());
        Assert.Equal(newestSid, details.PublicKeySid);
        Assert.NotEqual(olderSid, details.PublicKeySid);

        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var stored = await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{body.GetProperty("sid").GetString()}");
        Assert.Equal(wav, Customer.Decrypt(newest, details, stored));

        var warning = Assert.Single(await NotificationResource.ReadAsync(client: vault.Twilio()));
        Assert.Equal("16107", warning.ErrorCode);
        Assert.Equal("1", warning.Log);
        Assert.Contains(configuredSid, warning.MessageText, StringComparison.Ordinal);
        Assert.Contains(newestSid, warning.MessageText, StringComparison.Ordinal);
        var fetched = await NotificationResource.FetchAsync(pathSid: warning.Sid, client: vault.Twilio());
        Assert.Equal(warning.Sid, fetched.Sid);

        var callback = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Equal(newestSid, EncryptionDetails.Parse(callback.Parameters["EncryptionDetails"]).PublicKeySid);
    }

    [Fact]
    public async Task No_usable_key_fails_the_recording_with_16104_and_keeps_no_bytes()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        using var rsa = RSA.Create(2048);
        var keySid = await vault.AddKeyAsync(rsa);
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, keySid);
        await PublicKeyResource.DeleteAsync(pathSid: keySid, client: vault.Twilio());

        var wav = Audio.Wav(2);
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav,
            $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}&RecordingStatusCallbackEvent=completed%20failed");
        Assert.Equal(HttpStatusCode.Created, status);
        var sid = body.GetProperty("sid").GetString()!;
        var recording = await RecordingResource.FetchAsync(pathSid: sid, client: vault.Twilio());
        // "failed" is docs/api.md §9's status; the SDK's enum (Twilio's list) carries it as a string.
        Assert.Equal("failed", recording.Status.ToString());
        Assert.Equal(16104, recording.ErrorCode);
        Assert.Null(recording.EncryptionDetails);
        Assert.Empty(await TestMedia.EverythingAsync(vault.DataDir));
        foreach (var (path, content) in vault.DataFiles())
        {
            Assert.False(Audio.ContainsAnyRun(content, wav), $"plaintext in {path}");
        }
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{sid}.wav")).StatusCode);

        var callback = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Equal("failed", callback.Parameters["RecordingStatus"]);
        Assert.Equal("16104", callback.Parameters["ErrorCode"]);
        Assert.False(callback.Parameters.ContainsKey("EncryptionDetails"));
        var error = Assert.Single(await NotificationResource.ReadAsync(client: vault.Twilio()));
        Assert.Equal("16104", error.ErrorCode);
        Assert.Equal("0", error.Log);
    }

    [Fact]
    public async Task The_SDK_pages_notifications_newest_first()
    {
        await using var vault = await VaultServer.StartAsync();
        using var rsa = RSA.Create(2048);
        var keySid = await vault.AddKeyAsync(rsa);
        await vault.SetEncryptionAsync(vault.AccountSid, enabled: true, keySid);
        await PublicKeyResource.DeleteAsync(pathSid: keySid, client: vault.Twilio());
        var calls = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            calls.Add(Audio.CallSid());
            await vault.UploadAsync(vault.AccountSid, vault.AuthToken, calls[^1], Audio.Wav(1));
        }
        var notifications = (await NotificationResource.ReadAsync(pageSize: 2, client: vault.Twilio())).ToList();
        Assert.Equal(Enumerable.Reverse(calls), notifications.Select(n => n.CallSid));
        Assert.All(notifications, n => Assert.Equal("16104", n.ErrorCode));
        Assert.Empty(await NotificationResource.ReadAsync(log: 1, client: vault.Twilio()));
    }

    [Fact]
    public async Task A_failure_while_encrypting_and_storing_deletes_every_byte_and_reports_16104()
    {
        // A real full disk: the media folder on a 1 MiB tmpfs (root can mount one; the test scripts
        // run as root). The same guarantee without root: GuaranteeTests injects the fault.
        var dataDir = Directory.CreateTempSubdirectory("vv-full-").FullName;
        var mediaDir = Path.Combine(dataDir, "media");
        Directory.CreateDirectory(mediaDir);
        var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mediaDir])!;
        await mount.WaitForExitAsync();
        Assert.True(mount.ExitCode == 0, "mounting a tmpfs needs root; the test scripts run as root");
        try
        {
            await using var vault = await VaultServer.StartAsync(dataDir, extraArgs: ["--VoiceVault:Media", "files"]);
            await using var receiver = await CallbackReceiver.StartAsync();
            var wav = Audio.Wav(120); // 1.9 MB: more than the disk holds
            var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav,
                $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}&RecordingStatusCallbackEvent=failed");
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal("failed", body.GetProperty("status").GetString());
            Assert.Equal(16104, body.GetProperty("error_code").GetInt32());
            Assert.Empty(Directory.GetFiles(mediaDir, "*", SearchOption.AllDirectories));
            var callback = Assert.Single(await receiver.WaitForAsync(1));
            Assert.Equal("16104", callback.Parameters["ErrorCode"]);
            Assert.Equal("16104", Assert.Single(await NotificationResource.ReadAsync(client: vault.Twilio())).ErrorCode);
        }
        finally
        {
            await Process.Start("umount", [mediaDir])!.WaitForExitAsync();
            // The vault's own clean-up cannot remove a folder with a mount in it; now it can go.
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_recording_ends_once_whoever_ends_it_again()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        var lifecycle = vault.Services.GetRequiredService<Core.RecordingLifecycle>();
        var recording = await lifecycle.CreateAsync(TestRecordings.New(vault.AccountSid, Audio.CallSid(), receiver.Url, "failed absent completed"), Core.RecordingStatus.InProgress, Core.Actor.System);
        // Two instances ending the same recording of a dead third one, say: the first one wins.
        var first = await lifecycle.FailAsync(recording, "first ending");
        var second = await lifecycle.EndAbsentAsync(recording);
        var third = await lifecycle.FailAsync(recording, "third ending");
        Assert.Equal(Core.RecordingStatus.Failed, first.Status);
        Assert.Equal(first, second);
        Assert.Equal(first, third);
        Assert.Equal("failed", Assert.Single(await receiver.WaitForAsync(1)).Parameters["RecordingStatus"]);
        var notifications = await NotificationResource.ReadAsync(client: vault.Twilio());
        Assert.Equal("first ending", Assert.Single(notifications).MessageText);
        // The endings that changed nothing queued nothing: one callback in the outbox, committed
        // (each ending returned after its commit), so no later delivery can add one.
        Assert.Equal("1", await TestDatabase.ScalarAsync(vault.DataDir, $"SELECT COUNT(*) FROM outbox WHERE recording_sid = '{recording.Sid}'"));
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task Recordings_a_crash_left_unfinished_end_as_failed_with_their_callback_after_restart()
    {
        var vault = await VaultServer.StartAsync();
        try
        {
            await using var receiver = await CallbackReceiver.StartAsync();
            // An upload that never finishes: the client sends the head, then the server stops.
            using var http = vault.Http(vault.AccountSid, vault.AuthToken);
            var wav = Audio.Wav(10);
            var upload = new HeldUpload(http, $"/v1/Ingest/Calls/{Audio.CallSid()}/Recording?RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}&RecordingStatusCallbackEvent=failed%20absent%20completed");
            await upload.SendAsync(wav.AsMemory(0, 70_000));
            await Eventually.TrueAsync(async () => (await RecordingResource.ReadAsync(client: vault.Twilio())).Any(r => r.Status.ToString() == "processing"),
                "the upload's recording is being stored");
            vault = await vault.RestartAsync();
            await upload.AbandonAsync();

            var recording = Assert.Single(await RecordingResource.ReadAsync(client: vault.Twilio()));
            // The server stopped under the upload: its failure, not the client's (not "absent").
            Assert.Equal("failed", recording.Status.ToString());
            Assert.Equal(16104, recording.ErrorCode);
            Assert.Empty(await TestMedia.EverythingAsync(vault.DataDir));
            // A callback the stopping process had claimed comes back when its 30 s lease ends.
            var callbacks = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(45));
            Assert.Contains(callbacks, c => c.Parameters["RecordingSid"] == recording.Sid && c.Parameters["RecordingStatus"] == "failed");
        }
        finally
        {
            await vault.DisposeAsync();
        }
    }
}
