using System.Net;

namespace VoiceVault.Server.Tests;

public sealed class CallbackTests
{
    [Fact]
    public async Task Callbacks_survive_a_receiver_outage_and_a_server_restart()
    {
        var vault = await VaultServer.StartAsync();
        try
        {
            await using var receiver = await CallbackReceiver.StartAsync();
            receiver.Mode = "error";
            var query = $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}";
            var sids = new List<string>();
            for (int i = 0; i < 4; i++)
            {
                var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1), query);
                Assert.Equal(HttpStatusCode.Created, status);
                sids.Add(body.GetProperty("sid").GetString()!);
            }
            // Failing for a while: the dispatcher retries with backoff.
            await Eventually.TrueAsync(() => receiver.Failures >= 8, "two attempts per callback while the receiver was down");

            // A restart while callbacks are still owed; then the receiver comes back, hanging first.
            vault = await vault.RestartAsync();
            var (_, fifth) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1), query);
            sids.Add(fifth.GetProperty("sid").GetString()!);
            receiver.Mode = "ok";
            var delivered = await receiver.WaitForAsync(5, TimeSpan.FromSeconds(60));
            Assert.Equal(sids.Order(), delivered.Select(c => c.Parameters["RecordingSid"]).Distinct().Order());
            Assert.All(delivered, c => Assert.True(new Twilio.Security.RequestValidator(vault.AuthToken).Validate(c.Url, c.Parameters, c.Signature)));
        }
        finally
        {
            await vault.DisposeAsync();
        }
    }

    [Fact]
    public async Task GET_callbacks_carry_the_parameters_in_the_signed_url()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        var (status, _) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(1),
            $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url + "?tenant=42")}&RecordingStatusCallbackMethod=GET&RecordingStatusCallbackEvent=in-progress%20completed");
        Assert.Equal(HttpStatusCode.Created, status);
        var callback = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Equal("GET", callback.Method);
        Assert.Equal("completed", callback.Parameters["RecordingStatus"]);
        Assert.Equal("42", callback.Parameters["tenant"]);
        Assert.True(new Twilio.Security.RequestValidator(vault.AuthToken).Validate(callback.Url, new Dictionary<string, string>(), callback.Signature));
        // An upload is never "in-progress" (that event belongs to live recordings): had it been
        // queued, it would have been committed with the recording's creation and, as a recording's
        // callbacks leave in commit order, have arrived before this one.
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_recordings_callbacks_leave_in_the_order_of_its_changes_even_when_the_first_is_slow()
    {
        await using var vault = await VaultServer.StartAsync();
        await using var receiver = await CallbackReceiver.StartAsync();
        receiver.HoldInProgress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stream = await MediaStream.ConnectAsync(vault, vault.AccountSid, vault.AuthToken);
        await stream.StartAsync(new() { ["RecordingStatusCallback"] = receiver.Url, ["RecordingStatusCallbackEvent"] = "in-progress completed" });
        Assert.True(await receiver.ArrivesWithinAsync("in-progress", TimeSpan.FromSeconds(20)), "the in-progress callback never came");
        await stream.MediaAsync("inbound", 0, MediaStream.Frame());
        // Returns once the vault closes the stream: the call's recordings stored, their callbacks handed on.
        await stream.StopAsync();

        // The recording is completed in the vault while its in-progress callback is still unanswered...
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var list = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings.json")).RootElement;
        Assert.Equal("completed", list.GetProperty("recordings")[0].GetProperty("status").GetString());
        // ...and its completed callback waits for that answer instead of overtaking it.
        Assert.False(await receiver.ArrivesWithinAsync("completed", TimeSpan.FromSeconds(1)), "the completed callback overtook the in-progress one");
        receiver.HoldInProgress.SetResult();
        var callbacks = await receiver.WaitForAsync(2);
        Assert.Equal(["in-progress", "completed"], callbacks.Select(c => c.Parameters["RecordingStatus"]));
    }
}
