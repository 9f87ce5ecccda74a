using System.Data.Common;
using VoiceVault.Server.Core;

namespace VoiceVault.Server.Storage.Sql;

public sealed class SqlTwilioLinkStore(IVaultDatabase database) : ITwilioLinkStore
{
    private static TwilioLink Read(DbDataReader row) => new(row.Text("account_sid"), row.Text("twilio_account_sid"), row.Bytes("token_sealed"),
        row.BytesOrNull("secondary_token_sealed"), row.Time("date_created"), row.Time("date_updated"));

    public async Task<TwilioLink?> FindAsync(string accountSid, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        return await SqlRows.FirstAsync(db, "SELECT * FROM twilio_links WHERE account_sid = @accountSid", new { accountSid }, Read,
            cancellationToken: cancellationToken);
    }

    public Task<TwilioLink> SetAsync(WriteScope scope, string accountSid, string twilioAccountSid, byte[] tokenSealed, byte[]? secondaryTokenSealed, DateTimeOffset now) =>
        SqlRows.OneAsync(scope.Connection, """
            INSERT INTO twilio_links (account_sid, twilio_account_sid, token_sealed, secondary_token_sealed, date_created, date_updated)
            VALUES (@accountSid, @twilioAccountSid, @tokenSealed, @secondaryTokenSealed, @now, @now)
            ON CONFLICT (account_sid) DO UPDATE SET twilio_account_sid = excluded.twilio_account_sid, token_sealed = excluded.token_sealed,
                secondary_token_sealed = excluded.secondary_token_sealed, date_updated = excluded.date_updated
            RETURNING *
            """, new { accountSid, twilioAccountSid, tokenSealed, secondaryTokenSealed, now }, Read, scope.Transaction);

    public async Task<bool> DeleteAsync(WriteScope scope, string accountSid) =>
        await SqlRows.ExecuteAsync(scope.Connection, "DELETE FROM twilio_links WHERE account_sid = @accountSid", new { accountSid }, scope.Transaction) > 0;
}
