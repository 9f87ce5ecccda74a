namespace VoiceVault.Server.Tests;

/// <summary>
/// Waits on a condition, not on the clock: checks it on a 10 ms tick until it holds, and fails
/// after the timeout (20 s unless given) saying what did not happen.
/// </summary>
internal static class Eventually
{
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"after {limit.TotalSeconds:0.#} s: {what}");
            }
            await tick.WaitForNextTickAsync();
        }
    }
}
