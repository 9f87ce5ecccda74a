using System.Security.Cryptography;
using Dapper;
using VoiceVault.Server.Operations;
using VoiceVault.Server.Core;
using VoiceVault.Server.Storage.Postgres;
using VoiceVault.Server.Storage.Sql;
using VoiceVault.Server.Storage.Sqlite;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The storage contract: every backend must pass these, whatever the server suite runs on. One
/// fresh database per test (a data folder for SQLite, a schema for PostgreSQL).
/// </summary>
public abstract class StorageContractTests : IAsyncLifetime
{
    private IVaultDatabase _database = null!;
    protected static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero);

    protected abstract IVaultDatabase Open();

    protected abstract Task DropAsync();

    public async Task InitializeAsync()
    {
        _database = Open();
        await _database.MigrateAsync();
        Accounts = new SqlAccountStore(_database);
        Keys = new SqlPublicKeyStore(_database);
        Recordings = new SqlRecordingStore(_database);
        Notifications = new SqlNotificationStore(_database);
        Outbox = new SqlOutboxStore(_database);
        Instances = new SqlInstanceStore(_database);
        Links = new SqlTwilioLinkStore(_database);
    }

    public async Task DisposeAsync()
    {
        switch (_database)
        {
            case IAsyncDisposable disposable:
                await disposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
        await DropAsync();
    }

    protected IVaultDatabase Database => _database;
    protected IAccountStore Accounts { get; private set; } = null!;
    protected IPublicKeyStore Keys { get; private set; } = null!;
    protected IRecordingStore Recordings { get; private set; } = null!;
    protected INotificationStore Notifications { get; private set; } = null!;
    protected IOutboxStore Outbox { get; private set; } = null!;
    protected IInstanceStore Instances { get; private set; } = null!;
    protected ITwilioLinkStore Links { get; private set; } = null!;

    // Records holding byte arrays compare by reference; their JSON compares by content.
    private static string Shape(object? value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static string NewSid(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private async Task<Account> AccountAsync(string? parent = null) => await Database.WriteAsync(scope => Accounts.CreateAsync(scope, NewSid("AC"), parent, "name", [1, 2, 3], T0));

    private Task<Recording> RecordingAsync(string accountSid, string? callSid = null, RecordingStatus status = RecordingStatus.InProgress, DateTimeOffset? at = null,
        string? owner = "me") =>
        Database.WriteAsync(scope => Recordings.CreateAsync(scope, NewSid("RE"), TestRecordings.New(accountSid, callSid ?? NewSid("CA"), "https://example.com/cb", "completed failed"), status, owner, at ?? T0));

    [Fact]
    public async Task Migrating_again_applies_nothing_and_a_newer_schema_is_refused()
    {
        Assert.Empty(await Database.MigrateAsync());
        int latest = Migrations.Of(Database.Name).Count;
        await using (var db = await Database.OpenAsync())
        {
            Assert.Equal(latest, await Migrations.VersionAsync(db));
            await db.ExecuteAsync("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, 'from-the-future', @T0)", new { v = latest + 1, T0 });
        }
        var refused = await Assert.ThrowsAsync<Core.StartupException>(() => Database.MigrateAsync());
        Assert.Contains($"schema version {latest + 1}, newer than this VoiceVault knows ({latest})", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_allows_exactly_the_recording_statuses_the_core_spells()
    {
        var recording = await RecordingAsync((await AccountAsync()).Sid);
        await using var db = await Database.OpenAsync();
        // What the schema says (PostgreSQL's CHECK, SQLite's triggers) names the same words as the one table of statuses.
        var clauses = Database.Name == "postgres"
            ? (await db.QueryAsync<string>("SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid " +
                "WHERE t.relname = 'recordings' AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%status%' AND t.relnamespace = to_regnamespace(current_schema())")).ToList()
            : (await db.QueryAsync<string>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'recordings' AND name LIKE 'recordings_status_%'")).ToList();
        Assert.Equal(Database.Name == "postgres" ? 1 : 2, clauses.Count);
        foreach (var clause in clauses)
        {
            var words = System.Text.RegularExpressions.Regex.Matches(clause.Split("BEGIN")[0], "'([a-z-]+)'").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
            Assert.Equal(Spelling.RecordingStatuses.Select(s => s.Text).Order(StringComparer.Ordinal), words);
        }
        // And it holds: a status outside them is refused, on insert and on update; every one of them is taken.
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.ExecuteAsync("UPDATE recordings SET status = 'stopped' WHERE sid = @Sid", new { recording.Sid }));
        foreach (var (_, text) in Spelling.RecordingStatuses)
        {
            Assert.Equal(1, await db.ExecuteAsync("UPDATE recordings SET status = @text WHERE sid = @Sid", new { text, recording.Sid }));
        }
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.ExecuteAsync(
            "INSERT INTO recordings (sid, account_sid, call_sid, status, channels, source, track, start_time, callback_method, callback_events, date_created, date_updated) " +
            "SELECT 'RE0', account_sid, call_sid, 'recording', channels, source, track, start_time, callback_method, callback_events, date_created, date_updated FROM recordings WHERE sid = @Sid",
            new { recording.Sid }));
    }

    [Fact]
    public async Task A_recordings_retention_dates_are_none_until_set_and_read_back_to_the_millisecond()
    {
        var recording = await RecordingAsync((await AccountAsync()).Sid);
        Assert.Equal((null, null), (recording.DeleteAfter, recording.RetainUntil));
        var (deleteAfter, retainUntil) = (T0.AddDays(90), T0.AddYears(7));
        await using (var db = await Database.OpenAsync())
        {
            await SqlRows.ExecuteAsync(db, "UPDATE recordings SET delete_after = @deleteAfter, retain_until = @retainUntil WHERE sid = @Sid",
                new { deleteAfter, retainUntil, recording.Sid });
        }
        var found = await Recordings.FindAsync(recording.Sid);
        Assert.Equal((deleteAfter, retainUntil), (found!.DeleteAfter, found.RetainUntil));
    }

    [Fact]
    public async Task Accounts_keep_their_types_and_list_a_family_in_creation_order()
    {
        var parent = await AccountAsync();
        var child = await AccountAsync(parent.Sid);
        var stranger = await AccountAsync();
        var found = await Accounts.FindAsync(child.Sid);
        Assert.NotNull(found);
        Assert.Equal(child, found with { TokenSealed = child.TokenSealed });
        Assert.Equal([1, 2, 3], found.TokenSealed);
        Assert.Equal(T0, found.DateCreated);
        Assert.Equal(AccountStatus.Active, found.Status);
        Assert.Equal(parent.Sid, found.ParentSid);
        Assert.Equal([parent.Sid, child.Sid], (await Accounts.ListFamilyAsync(parent.Sid)).Select(a => a.Sid));
        Assert.Equal([stranger.Sid], (await Accounts.ListFamilyAsync(stranger.Sid)).Select(a => a.Sid));

        var updated = await Database.WriteAsync(scope => Accounts.UpdateAsync(scope, child.Sid, "renamed", AccountStatus.Suspended, T0.AddMinutes(1)));
        Assert.Equal(("renamed", AccountStatus.Suspended, T0.AddMinutes(1), T0), (updated!.FriendlyName, updated.Status, updated.DateUpdated, updated.DateCreated));
        Assert.Null(await Database.WriteAsync(scope => Accounts.UpdateAsync(scope, NewSid("AC"), "x", AccountStatus.Active, T0)));
        Assert.True(await Accounts.AnyAsync());
    }

    [Fact]
    public async Task Times_are_kept_to_the_millisecond_in_UTC()
    {
        var odd = new DateTimeOffset(2026, 7, 4, 23, 59, 59, TimeSpan.FromHours(-5)).AddTicks(1234567);
        var account = await Database.WriteAsync(scope => Accounts.CreateAsync(scope, NewSid("AC"), null, "n", [0], odd));
        var read = (await Accounts.FindAsync(account.Sid))!.DateCreated;
        Assert.Equal(TimeSpan.Zero, read.Offset);
        Assert.Equal(odd.ToUniversalTime().AddTicks(-(odd.UtcTicks % TimeSpan.TicksPerMillisecond)), read);
    }

    [Fact]
    public async Task Api_keys_are_found_only_under_their_own_account()
    {
        var owner = await AccountAsync();
        var other = await AccountAsync();
        var key = await Database.WriteAsync(scope => Accounts.CreateApiKeyAsync(scope, NewSid("SK"), owner.Sid, "k", [9, 9], ApiKeyRole.Full, T0));
        var auditor = await Database.WriteAsync(scope => Accounts.CreateApiKeyAsync(scope, NewSid("SK"), owner.Sid, "a", [8], ApiKeyRole.Auditor, T0));
        Assert.Equal((ApiKeyRole.Auditor, ApiKeyRole.Auditor), (auditor.Role, (await Accounts.FindApiKeySecretAsync(auditor.Sid))!.Role));
        await Database.WriteAsync(scope => Accounts.DeleteApiKeyAsync(scope, owner.Sid, auditor.Sid));
        Assert.Equal(key, await Accounts.FindApiKeyAsync(owner.Sid, key.Sid));
        Assert.Null(await Accounts.FindApiKeyAsync(other.Sid, key.Sid));
        Assert.Equal([key], await Accounts.ListApiKeysAsync(owner.Sid));
        Assert.Empty(await Accounts.ListApiKeysAsync(other.Sid));
        var secret = await Accounts.FindApiKeySecretAsync(key.Sid);
        Assert.Equal((owner.Sid, AccountStatus.Active, ApiKeyRole.Full), (secret!.AccountSid, secret.AccountStatus, secret.Role));
        Assert.Equal([9, 9], secret.SecretSealed);
        await Database.WriteAsync(scope => Accounts.UpdateAsync(scope, owner.Sid, owner.FriendlyName, AccountStatus.Closed, T0));
        Assert.Equal(AccountStatus.Closed, (await Accounts.FindApiKeySecretAsync(key.Sid))!.AccountStatus);

        Assert.False(await Database.WriteAsync(scope => Accounts.DeleteApiKeyAsync(scope, other.Sid, key.Sid)));
        Assert.NotNull(await Accounts.FindApiKeySecretAsync(key.Sid));
        Assert.True(await Database.WriteAsync(scope => Accounts.DeleteApiKeyAsync(scope, owner.Sid, key.Sid)));
        Assert.Null(await Accounts.FindApiKeySecretAsync(key.Sid));
    }

    [Fact]
    public async Task A_Twilio_link_is_one_per_account_replaced_whole_keeping_its_creation_date()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        Assert.Null(await Links.FindAsync(account.Sid));
        var twilio = NewSid("AC");
        var created = await Database.WriteAsync(scope => Links.SetAsync(scope, account.Sid, twilio, [1, 2], [3, 4], T0));
        Assert.Equal(Shape(new TwilioLink(account.Sid, twilio, [1, 2], [3, 4], T0, T0)), Shape(created));
        Assert.Equal(Shape(created), Shape(await Links.FindAsync(account.Sid)));

        var relinked = await Database.WriteAsync(scope => Links.SetAsync(scope, account.Sid, twilio, [5], null, T0.AddMinutes(1)));
        Assert.Equal(Shape(new TwilioLink(account.Sid, twilio, [5], null, T0, T0.AddMinutes(1))), Shape(relinked));
        Assert.Null(await Links.FindAsync(other.Sid));

        Assert.False(await Database.WriteAsync(scope => Links.DeleteAsync(scope, other.Sid)));
        Assert.True(await Database.WriteAsync(scope => Links.DeleteAsync(scope, account.Sid)));
        Assert.Null(await Links.FindAsync(account.Sid));
        await Assert.ThrowsAnyAsync<Exception>(() => Database.WriteAsync(scope => Links.SetAsync(scope, NewSid("AC"), twilio, [1], null, T0))); // only an existing account links
    }

    [Fact]
    public async Task Public_keys_and_settings_round_trip_and_list_by_account()
    {
        var a = await AccountAsync();
        var b = await AccountAsync();
        var c = await AccountAsync();
        var ka = await Database.WriteAsync(scope => Keys.CreateAsync(scope, NewSid("CR"), a.Sid, "ka", [1], "fp-a", T0));
        var kb = await Database.WriteAsync(scope => Keys.CreateAsync(scope, NewSid("CR"), b.Sid, "kb", [2], "fp-b", T0));
        await Database.WriteAsync(scope => Keys.CreateAsync(scope, NewSid("CR"), c.Sid, "kc", [3], "fp-c", T0));
        Assert.Equal(Shape(new[] { ka, kb }), Shape(await Keys.ListAsync([a.Sid, b.Sid])));
        Assert.Empty(await Keys.ListAsync([]));
        var renamed = await Keys.RenameAsync(ka.Sid, "new", T0.AddSeconds(5));
        Assert.Equal(Shape(ka with { FriendlyName = "new", DateUpdated = T0.AddSeconds(5) }), Shape(renamed));
        Assert.True(await Database.WriteAsync(scope => Keys.DeleteAsync(scope, kb.Sid)));
        Assert.False(await Database.WriteAsync(scope => Keys.DeleteAsync(scope, kb.Sid)));
        Assert.Null(await Keys.FindAsync(kb.Sid));

        await Database.WriteAsync(scope => Keys.SaveSettingAsync(scope, new EncryptionSetting(a.Sid, true, ka.Sid, T0)));
        await Database.WriteAsync(scope => Keys.SaveSettingAsync(scope, new EncryptionSetting(a.Sid, false, null, T0.AddSeconds(1))));
        await Database.WriteAsync(scope => Keys.SaveSettingAsync(scope, new EncryptionSetting(b.Sid, true, ka.Sid, T0)));
        var settings = await Keys.FindSettingsAsync([a.Sid, c.Sid]);
        Assert.Equal([new EncryptionSetting(a.Sid, false, null, T0.AddSeconds(1))], settings);
        // Both at once, as choosing a recording's key reads them.
        var (both, keys) = await Keys.FindEncryptionAsync([a.Sid, b.Sid]);
        Assert.Equal(new[] { a.Sid, b.Sid }.Order(), both.Select(s => s.AccountSid).Order());
        Assert.Equal([ka.Sid], keys.Select(k => k.Sid));
        var (none, noKeys) = await Keys.FindEncryptionAsync([NewSid("AC")]);
        Assert.Empty(none);
        Assert.Empty(noKeys);
    }

    [Fact]
    public async Task A_recording_completes_with_its_media_and_ends_only_once()
    {
        var account = await AccountAsync();
        var recording = await RecordingAsync(account.Sid);
        Assert.Equal((RecordingStatus.InProgress, 1, RecordingSource.StartCallRecordingApi, (MediaKeyMode?)null, T0), (recording.Status, recording.Channels, recording.Source, recording.KeyMode, recording.StartTime));

        var paused = await Database.WriteAsync(scope => Recordings.SetUnfinishedStatusAsync(scope, recording.Sid, RecordingStatus.Paused, T0));
        Assert.Equal(RecordingStatus.Paused, paused!.Status);
        var media = new StoredMedia
        {
            MediaKey = $"{account.Sid}/{recording.Sid}", MediaSize = 5_000_000_000, Channels = 2, Duration = 3600, KeyMode = MediaKeyMode.Customer,
            PublicKeySid = "CR1", EncryptedCek = [7, 7], Iv = [8, 8],
        };
        var completed = await Database.WriteAsync(scope => Recordings.CompleteAsync(scope, recording.Sid, media, T0.AddHours(1)));
        Assert.Equal((RecordingStatus.Completed, 5_000_000_000L, 2, 3600, MediaKeyMode.Customer, "CR1"),
            (completed.Status, completed.MediaSize!.Value, completed.Channels, completed.Duration!.Value, completed.KeyMode!.Value, completed.PublicKeySid));
        Assert.Equal(Shape(completed), Shape(await Recordings.FindAsync(account.Sid, recording.Sid)));

        // Ended: neither a second ending nor a pause changes it.
        Assert.Null(await Database.WriteAsync(scope => Recordings.EndWithoutMediaAsync(scope, recording.Sid, RecordingStatus.Failed, 16104, T0)));
        Assert.Null(await Database.WriteAsync(scope => Recordings.SetUnfinishedStatusAsync(scope, recording.Sid, RecordingStatus.Paused, T0)));
        Assert.Equal(Shape(completed), Shape(await Recordings.FindAsync(recording.Sid)));

        var other = await RecordingAsync(account.Sid);
        var failed = await Database.WriteAsync(scope => Recordings.EndWithoutMediaAsync(scope, other.Sid, RecordingStatus.Failed, 16104, T0));
        Assert.Equal((RecordingStatus.Failed, 16104), (failed!.Status, failed.ErrorCode!.Value));
        Assert.Equal(1, await Recordings.CountUsingKeyAsync("CR1"));
        Assert.True(await Database.WriteAsync(scope => Recordings.DeleteAsync(scope, recording.Sid)));
        Assert.False(await Database.WriteAsync(scope => Recordings.DeleteAsync(scope, recording.Sid)));
        Assert.Null(await Recordings.FindAsync(recording.Sid));
        Assert.Null(await Recordings.FindAsync(NewSid("AC"), other.Sid));
    }

    [Fact]
    public async Task Recordings_page_newest_first_by_keyset_with_filters()
    {
        var account = await AccountAsync();
        var stranger = await AccountAsync();
        var call = NewSid("CA");
        var made = new List<Recording>();
        for (int i = 0; i < 7; i++)
        {
            made.Add(await RecordingAsync(account.Sid, i % 2 == 0 ? call : null, at: T0.AddDays(i)));
        }
        await RecordingAsync(stranger.Sid, call);
        var newest = made.AsEnumerable().Reverse().Select(r => r.Sid).ToList();

        var first = await Recordings.PageAsync(new RecordingFilter(account.Sid), new PageCursor(3));
        Assert.Equal(newest.Take(4), first.Select(r => r.Sid));            // the page and one more
        var second = await Recordings.PageAsync(new RecordingFilter(account.Sid), new PageCursor(3, After: first[2].Seq));
        Assert.Equal(newest.Skip(3).Take(4), second.Select(r => r.Sid));
        var back = await Recordings.PageAsync(new RecordingFilter(account.Sid), new PageCursor(3, Before: second[0].Seq));
        Assert.Equal(newest.Take(3), back.Select(r => r.Sid));

        var byCall = await Recordings.PageAsync(new RecordingFilter(account.Sid, call), new PageCursor(50));
        Assert.Equal([made[6].Sid, made[4].Sid, made[2].Sid, made[0].Sid], byCall.Select(r => r.Sid));
        var byDate = await Recordings.PageAsync(new RecordingFilter(account.Sid, From: T0.AddDays(2), Until: T0.AddDays(4)), new PageCursor(50));
        Assert.Equal([made[4].Sid, made[3].Sid, made[2].Sid], byDate.Select(r => r.Sid));
    }

    [Fact]
    public async Task Notifications_page_newest_first_by_level_within_one_account()
    {
        var account = await AccountAsync();
        var other = await AccountAsync();
        var added = new List<Notification>();
        foreach (var level in new[] { NotificationLevel.Error, NotificationLevel.Warning, NotificationLevel.Error })
        {
            added.Add(await Database.WriteAsync(scope => Notifications.AddAsync(scope, NewSid("NO"), new NewNotification(account.Sid, null, 16104, level, "m"), T0)));
        }
        Assert.Equal([added[2], added[0]], await Notifications.PageAsync(account.Sid, NotificationLevel.Error, new PageCursor(10)));
        Assert.Equal([added[2], added[1], added[0]], await Notifications.PageAsync(account.Sid, null, new PageCursor(10)));
        Assert.Equal(added[1], await Notifications.FindAsync(account.Sid, added[1].Sid));
        Assert.Null(await Notifications.FindAsync(other.Sid, added[1].Sid));
        Assert.Empty(await Notifications.PageAsync(other.Sid, null, new PageCursor(10)));
    }

    [Fact]
    public async Task A_write_that_throws_leaves_nothing_of_itself()
    {
        var account = await AccountAsync();
        var sid = NewSid("RE");
        await Assert.ThrowsAnyAsync<Exception>(() => Database.WriteAsync(async scope =>
        {
            await Recordings.CreateAsync(scope, sid, TestRecordings.New(account.Sid, NewSid("CA")),
                RecordingStatus.Processing, "me", T0);
            await Notifications.AddAsync(scope, NewSid("NO"), new NewNotification(account.Sid, null, 16104, NotificationLevel.Error, "m"), T0);
            throw new InvalidOperationException("the unit fails after its statements");
        }));
        Assert.Null(await Recordings.FindAsync(sid));
        Assert.Empty(await Notifications.PageAsync(account.Sid, null, new PageCursor(10)));
    }

    [Fact]
    public async Task The_outbox_hands_each_due_message_to_one_claimer_until_delivered()
    {
        var born = new List<OutboxMessage>();
        for (int i = 0; i < 40; i++)
        {
            born.Add(await Database.WriteAsync(scope => Outbox.AddAsync(scope, new NewOutboxMessage("AC1", "RE" + i, "https://e/x", "POST", "a=b"), T0.AddSeconds(30), T0)));
        }
        // Leased to its sender at birth: nobody claims it before the lease runs out.
        Assert.Empty(await Outbox.ClaimDueAsync(T0.AddSeconds(29), T0.AddSeconds(59), 64));

        // Six claimers at once, a few messages at a time until none is due: every message goes to
        // exactly one of them, and each batch comes oldest first.
        var due = T0.AddSeconds(31);
        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            var mine = new List<IReadOnlyList<OutboxMessage>>();
            while (await Outbox.ClaimDueAsync(due, due.AddSeconds(30), 2) is { Count: > 0 } batch)
            {
                mine.Add(batch);
            }
            return mine;
        })));
        var claimed = claims.SelectMany(c => c).SelectMany(b => b).Select(m => m.Seq).ToList();
        Assert.Equal(born.Select(m => m.Seq), claimed.Order());
        foreach (var batch in claims.SelectMany(c => c))
        {
            Assert.Equal(batch.Select(m => m.Seq).Order(), batch.Select(m => m.Seq));
        }

        var later = due.AddSeconds(31);
        var rest = await Outbox.ClaimDueAsync(later, later.AddSeconds(30), 64);
        Assert.Equal(born.Select(m => m.Seq), rest.Select(m => m.Seq));
        await Outbox.MarkDeliveredAsync(born.Take(38).Select(m => m.Seq).ToList(), later);
        await Outbox.RetryLaterAsync(born[38].Seq, 3, "HTTP 500", later.AddMinutes(5));
        await Outbox.ReleaseAsync([born[39].Seq, born[0].Seq], later);
        var afterRelease = await Outbox.ClaimDueAsync(later, later.AddSeconds(30), 64);
        Assert.Equal([born[39].Seq], afterRelease.Select(m => m.Seq));
        var retried = await Outbox.FindAsync(born[38].Seq);
        Assert.Equal((3, later.AddMinutes(5)), (retried!.Attempts, retried.NextAttemptAt));
        // Once their times come: the retry, and the released one whose new lease has run out too.
        Assert.Equal([born[38].Seq, born[39].Seq], (await Outbox.ClaimDueAsync(later.AddMinutes(6), later.AddMinutes(7), 64)).Select(m => m.Seq));
    }

    [Fact]
    public async Task Unfinished_recordings_of_dead_instances_and_without_owner_are_abandoned()
    {
        var account = await AccountAsync();
        var mine = await RecordingAsync(account.Sid, owner: "me");
        var alive = await RecordingAsync(account.Sid, owner: "alive");
        var dead = await RecordingAsync(account.Sid, owner: "dead");
        var orphan = await RecordingAsync(account.Sid, owner: null);     // from before recordings had owners
        var ended = await RecordingAsync(account.Sid, owner: "dead");
        await Database.WriteAsync(scope => Recordings.EndWithoutMediaAsync(scope, ended.Sid, RecordingStatus.Absent, null, T0));
        await Instances.HeartbeatAsync("dead", T0);
        await Instances.HeartbeatAsync("alive", T0.AddMinutes(10));
        await Instances.HeartbeatAsync("me", T0.AddMinutes(10));
        var deadBefore = T0.AddMinutes(5);

        Assert.Equal([dead.Sid, orphan.Sid], (await Instances.AbandonedAsync("me", includeOwn: false, deadBefore)).Select(r => r.Sid));
        Assert.Equal([mine.Sid, dead.Sid, orphan.Sid], (await Instances.AbandonedAsync("me", includeOwn: true, deadBefore)).Select(r => r.Sid));
        Assert.Equal([alive.Sid], await Instances.HeldByOthersAsync("me", deadBefore));
        Assert.Equal([mine.Sid], await Instances.HeldByOthersAsync("alive", deadBefore));
    }

    [Fact]
    public async Task A_live_call_is_found_at_the_address_of_the_live_instance_holding_it()
    {
        var deadBefore = T0.AddMinutes(5);
        await Instances.HeartbeatAsync("a", T0.AddMinutes(10), "http://10.0.0.1:5080");
        await Instances.HeartbeatAsync("a", T0.AddMinutes(11));                      // no address given: the known one stays
        await Instances.HeartbeatAsync("b", T0.AddMinutes(10), "http://10.0.0.2:5080");
        await Instances.HeartbeatAsync("dead", T0, "http://10.0.0.3:5080");
        await Instances.HeartbeatAsync("mute", T0.AddMinutes(10));                    // alive, address unknown
        await Instances.SetLiveCallAsync("AC1", "CA1", "a");
        await Instances.SetLiveCallAsync("AC1", "CA2", "dead");
        await Instances.SetLiveCallAsync("AC1", "CA3", "mute");
        await Instances.SetLiveCallAsync("AC2", "CA1", "b");

        Assert.Equal("http://10.0.0.1:5080", await Instances.LiveCallAddressAsync("AC1", "CA1", "b", deadBefore));
        Assert.Null(await Instances.LiveCallAddressAsync("AC1", "CA1", "a", deadBefore));     // its own call
        Assert.Null(await Instances.LiveCallAddressAsync("AC1", "CA2", "b", deadBefore));     // a dead instance
        Assert.Null(await Instances.LiveCallAddressAsync("AC1", "CA3", "b", deadBefore));     // nowhere to send it
        Assert.Null(await Instances.LiveCallAddressAsync("AC3", "CA1", "b", deadBefore));     // not streaming anywhere
        Assert.Equal("http://10.0.0.2:5080", await Instances.LiveCallAddressAsync("AC2", "CA1", "a", deadBefore));

        // The call moves to b (a new stream); a's late end of its old stream does not remove b's.
        await Instances.SetLiveCallAsync("AC1", "CA1", "b");
        await Instances.EndLiveCallAsync("AC1", "CA1", "a");
        Assert.Equal("http://10.0.0.2:5080", await Instances.LiveCallAddressAsync("AC1", "CA1", "a", deadBefore));
        await Instances.EndLiveCallAsync("AC1", "CA1", "b");
        Assert.Null(await Instances.LiveCallAddressAsync("AC1", "CA1", "a", deadBefore));
        // A restarted instance forgets every call it held.
        await Instances.EndLiveCallsAsync("b");
        Assert.Null(await Instances.LiveCallAddressAsync("AC2", "CA1", "a", deadBefore));
    }
}

public sealed class SqliteStorageContractTests : StorageContractTests
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vv-contract-").FullName;

    protected override IVaultDatabase Open() => new SqliteVaultDatabase(new VaultOptions { DataDir = _dir }, new VaultMetrics());

    protected override Task DropAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Instances_starting_together_on_one_folder_apply_each_migration_once()
    {
        var dir = Directory.CreateTempSubdirectory("vv-contract-race-").FullName;
        try
        {
            var databases = Enumerable.Range(0, 4).Select(_ => new SqliteVaultDatabase(new VaultOptions { DataDir = dir }, new VaultMetrics())).ToList();
            var applied = await Task.WhenAll(databases.Select(d => Task.Run(() => d.MigrateAsync())));
            Assert.Equal(Migrations.Of("sqlite").Select(m => m.Version), applied.SelectMany(a => a).Order());
            databases.ForEach(d => d.Dispose());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}

public sealed class PostgresStorageContractTests : StorageContractTests
{
    private readonly string _key = "contract-" + Guid.NewGuid().ToString("N");

    protected override IVaultDatabase Open() => new PostgresVaultDatabase(TestDatabase.SchemaConnection(_key));

    protected override Task DropAsync()
    {
        TestDatabase.Drop(_key, force: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Instances_starting_together_apply_each_migration_once()
    {
        var connection = TestDatabase.SchemaConnection(_key + "-race");
        try
        {
            var databases = Enumerable.Range(0, 4).Select(_ => new PostgresVaultDatabase(connection)).ToList();
            var applied = await Task.WhenAll(databases.Select(d => Task.Run(() => d.MigrateAsync())));
            Assert.Equal(Migrations.Of("postgres").Select(m => m.Version), applied.SelectMany(a => a).Order());
            databases.ForEach(d => d.Dispose());
        }
        finally
        {
            TestDatabase.Drop(_key + "-race", force: true);
        }
    }
}
