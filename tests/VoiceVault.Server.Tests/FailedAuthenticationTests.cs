using VoiceVault.Server.Core;

namespace VoiceVault.Server.Tests;

/// <summary>
/// auth.failed (docs/audit.md): a window's counts become at most 60 events per account — one per
/// credential and address, the largest first, the rest summed into the last — so a spray from
/// thousands of addresses writes 60 events a minute, not thousands.
/// </summary>
public sealed class FailedAuthenticationTests
{
    private static readonly DateTimeOffset Window = new(2026, 12, 8, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_spray_from_many_addresses_makes_sixty_events_per_account_and_window_with_every_try_counted()
    {
        var account = "AC" + new string('a', 32);
        var other = "AC" + new string('b', 32);
        var counts = Enumerable.Range(0, 200).Select(i => new FailureCount(Window, account, account, $"10.0.{i / 256}.{i % 256}", 1 + i % 3))
            .Append(new FailureCount(Window, other, other, "10.9.9.9", 7))
            .Append(new FailureCount(Window.AddMinutes(1), account, account, "10.0.0.1", 2))
            .ToList();
        var events = FailedAuthentications.EventsOf(counts, TimeSpan.FromMinutes(1));

        var first = events.Where(e => e.AccountSid == account && (string)e.Details!["from"]! == "2026-12-08T10:00:00.000Z").ToList();
        Assert.Equal(60, first.Count);
        // Every try is counted: the 59 largest on their own, the rest in the 60th.
        Assert.Equal(counts.Where(c => c.AccountSid == account && c.WindowStart == Window).Sum(c => c.Count), first.Sum(e => (long)e.Details!["count"]!));
        Assert.All(first[..59], e => Assert.Equal(3L, e.Details!["count"]));
        var rest = first[59];
        Assert.Equal((null, null, 141), (rest.Actor.Sid, rest.Actor.SourceIp, (int)rest.Details!["addresses"]!));
        // Other accounts and windows have their own share.
        Assert.Equal(7L, Assert.Single(events, e => e.AccountSid == other).Details!["count"]);
        Assert.Equal("10.0.0.1", Assert.Single(events, e => (string)e.Details!["from"]! == "2026-12-08T10:01:00.000Z").Actor.SourceIp);
        Assert.All(events, e => Assert.Equal((AuditActions.AuthFailed, AuditOutcome.Denied), (e.Action, e.Outcome)));
    }

    [Fact]
    public void Sixty_addresses_or_fewer_each_get_their_own_event()
    {
        var account = "AC" + new string('a', 32);
        var key = "SK" + new string('c', 32);
        var counts = Enumerable.Range(0, 60).Select(i => new FailureCount(Window, account, i % 2 == 0 ? account : key, $"2001:db8:{i:x}::/64", 1)).ToList();
        var events = FailedAuthentications.EventsOf(counts, TimeSpan.FromMinutes(1));
        Assert.Equal(60, events.Count);
        Assert.Equal(counts.Select(c => c.Address).Order(), events.Select(e => e.Actor.SourceIp!).Order());
        Assert.Equal(30, events.Count(e => e.Actor.Type == ActorType.ApiKey && e.Actor.Sid == key));
    }
}
