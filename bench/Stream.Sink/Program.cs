// The floor for live ingest: a Kestrel WebSocket endpoint that accepts Media Streams, reads every
// message and discards it. It counts the media messages it read (GET /frames), so the load
// generator can tell whether any were lost.
using System.Net.WebSockets;

var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
builder.Logging.ClearProviders();
var app = builder.Build();
app.UseWebSockets();
long frames = 0;
app.MapGet("/frames", () => Results.Text(Interlocked.Read(ref frames).ToString(System.Globalization.CultureInfo.InvariantCulture)));
app.MapGet("/v1/Ingest/MediaStream", async (HttpContext context) =>
{
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[64 * 1024];
    try
    {
        while (true)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                return Results.Empty;
            }
            // Media messages are the ones with a payload; the generator's are all "event":"media" first.
            if (buffer.AsSpan(0, length).StartsWith("{\"event\":\"media\""u8))
            {
                Interlocked.Increment(ref frames);
            }
        }
    }
    catch (Exception e) when (e is WebSocketException or OperationCanceledException)
    {
        return Results.Empty;
    }
});
app.Run();
