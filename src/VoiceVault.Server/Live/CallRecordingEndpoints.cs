using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Live;

/// <summary>
/// Recording control of a live call through Twilio's API: start a recording on a call that is
/// streaming into this instance, then pause (skip or silence), resume and stop it.
/// </summary>
public static class CallRecordingEndpoints
{
    public static void MapCallRecordingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json", StartAsync).WithTags("Recordings").AddEndpointFilter<CallControlRouting>();
        app.MapPost("/2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}", UpdateAsync).WithTags("Recordings").AddEndpointFilter<CallControlRouting>();
    }

    /// <summary>Starting a recording of a live call: Twilio's Recording* parameters and Trim, as a form.</summary>
    public sealed record StartForm(
        [FromForm(Name = "RecordingStatusCallback")] string? RecordingStatusCallback,
        [FromForm(Name = "RecordingStatusCallbackMethod")] string? RecordingStatusCallbackMethod,
        [FromForm(Name = "RecordingStatusCallbackEvent")] StringValues? RecordingStatusCallbackEvent,
        [FromForm(Name = "RecordingChannels")] string? RecordingChannels,
        [FromForm(Name = "RecordingTrack")] string? RecordingTrack,
        [FromForm(Name = "Trim")] string? Trim)
    {
        public LiveRecordingRequest Request(Webhooks.CallbackAddresses addresses, Actor actor)
        {
            var parameters = RecordingParameters.From(RecordingStatusCallback, RecordingStatusCallbackMethod, RecordingStatusCallbackEvent, RecordingChannels, RecordingTrack, addresses);
            return new LiveRecordingRequest(parameters, LiveRecordingRequest.ParseTrim(Trim ?? ""), RecordingSource.StartCallRecordingApi, actor);
        }
    }

    /// <summary>Pausing (with skip or silence), resuming or stopping a recording.</summary>
    public sealed record UpdateForm([FromForm(Name = "Status")] string? Status, [FromForm(Name = "PauseBehavior")] string? PauseBehavior)
    {
        public bool Skip => (PauseBehavior ?? "") switch
        {
            "" or "silence" => false,
            "skip" => true,
            var other => throw ApiException.BadParameter($"PauseBehavior must be skip or silence; got '{other}'", 20001),
        };
    }

    private static async Task<Created<RecordingResource>> StartAsync(string sid, string callSid, [AsParameters] StartForm form, HttpContext context,
        AccountDirectory accounts, LiveCalls calls, VaultOptions options, Webhooks.CallbackAddresses addresses)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var request = form.Request(addresses, context.Actor());
        var call = calls.Find(account.Sid, callSid) ?? throw NotLive(callSid);
        var recording = await call.StartRecordingAsync(request);
        return TypedResults.Created((string?)null, RecordingJson.Of(recording, options, callScoped: true));
    }

    private static async Task<Ok<RecordingResource>> UpdateAsync(string sid, string callSid, string file, [AsParameters] UpdateForm form, HttpContext context,
        AccountDirectory accounts, LiveCalls calls, IRecordingStore recordings, VaultOptions options)
    {
        var account = await context.AccountInScopeAsync(accounts, sid);
        var recordingSid = file.EndsWith(".json", StringComparison.Ordinal) ? file[..^5] : file;
        var existing = await recordings.FindAsync(account.Sid, recordingSid);
        if (existing is null || existing.CallSid != callSid)
        {
            throw ApiException.NotFound($"/Accounts/{sid}/Calls/{callSid}/Recordings/{recordingSid}");
        }
        var skip = form.Skip;
        if (calls.Find(account.Sid, callSid) is not { } call || call.Find(recordingSid) is not { } recorder)
        {
            throw ApiException.BadParameter($"Recording {recordingSid} is {existing.Status.Text()}, not in progress: it can no longer be paused, resumed or stopped.", 21220);
        }
        var updated = (form.Status ?? "") switch
        {
            "paused" => await call.PauseAsync(recorder, skip, context.Actor()),
            "in-progress" => await call.ResumeAsync(recorder, context.Actor()),
            "stopped" => await call.StopAsync(recorder, context.Actor()),
            var status => throw ApiException.BadParameter($"Status must be paused, in-progress or stopped; got '{status}'", 20001),
        };
        return TypedResults.Ok(RecordingJson.Of(updated, options, callScoped: true));
    }

    private static ApiException NotLive(string callSid) =>
        ApiException.BadParameter($"Call {callSid} is not streaming into this vault: start its Media Stream (Record=false to stream without recording) before starting a recording.", 21220);
}
