using Microsoft.Extensions.Primitives;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;
using VoiceVault.Server.Api.Ingest;
using VoiceVault.Server.Api.Recordings;

namespace VoiceVault.Server.Live;

/// <summary>
/// Recording control of a live call through Twilio's API: start a recording on a call that is
/// streaming into this instance, then pause (skip or silence), resume and stop it.
/// </summary>
public static class CallRecordingEndpoints
{
    public static void MapCallRecordingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json", async (string sid, string callSid, HttpContext context,
            AccountDirectory accounts, LiveCalls calls, VaultOptions options, Webhooks.CallbackAddresses addresses) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var form = await context.ReadFormAsync();
            var parameters = RecordingParameters.From(new QueryCollection(form.ToDictionary(p => p.Key, p => p.Value)), addresses);
            var trim = LiveRecordingRequest.ParseTrim(form["Trim"].ToString());
            var call = calls.Find(account.Sid, callSid) ?? throw NotLive(callSid);
            var recording = await call.StartRecordingAsync(new LiveRecordingRequest(parameters, trim, RecordingSource.StartCallRecordingApi));
            return TypedResults.Created((string?)null, RecordingJson.Of(recording, options, callScoped: true));
        }).WithTags("Recordings").AddEndpointFilter<CallControlRouting>();

        app.MapPost("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}", async (string sid, string callSid, string file, HttpContext context,
            AccountDirectory accounts, LiveCalls calls, IRecordingStore recordings, VaultOptions options) =>
        {
            var account = await context.AccountInScopeAsync(accounts, sid);
            var recordingSid = file.EndsWith(".json", StringComparison.Ordinal) ? file[..^5] : file;
            var existing = await recordings.FindAsync(account.Sid, recordingSid);
            if (existing is null || existing.CallSid != callSid)
            {
                throw ApiException.NotFound($"/Accounts/{sid}/Calls/{callSid}/Recordings/{recordingSid}");
            }
            var form = await context.ReadFormAsync();
            var status = form["Status"].ToString();
            var skip = form["PauseBehavior"].ToString() switch
            {
                "" or "silence" => false,
                "skip" => true,
                var other => throw ApiException.BadParameter($"PauseBehavior must be skip or silence; got '{other}'", 20001),
            };
            if (calls.Find(account.Sid, callSid) is not { } call || call.Find(recordingSid) is not { } recorder)
            {
                throw ApiException.BadParameter($"Recording {recordingSid} is {existing.Status.Text()}, not in progress: it can no longer be paused, resumed or stopped.", 21220);
            }
            var updated = status switch
            {
                "paused" => await call.PauseAsync(recorder, skip),
                "in-progress" => await call.ResumeAsync(recorder),
                "stopped" => await call.StopAsync(recorder),
                _ => throw ApiException.BadParameter($"Status must be paused, in-progress or stopped; got '{status}'", 20001),
            };
            return TypedResults.Ok(RecordingJson.Of(updated, options, callScoped: true));
        }).WithTags("Recordings").AddEndpointFilter<CallControlRouting>();
    }

    private static ApiException NotLive(string callSid) =>
        ApiException.BadParameter($"Call {callSid} is not streaming into this vault: start its Media Stream (Record=false to stream without recording) before starting a recording.", 21220);
}
