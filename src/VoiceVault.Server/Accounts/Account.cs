namespace VoiceVault.Server.Accounts;

/// <summary>An account row; the auth token stays sealed under the master key.</summary>
public sealed record Account(long Seq, string Sid, string? ParentSid, string FriendlyName, string Status, byte[] TokenSealed, string DateCreated, string DateUpdated)
{
    public bool IsActive => Status == "active";
}

/// <summary>Who is calling: the account whose credentials (its token, or one of its API keys) were given.</summary>
public sealed record Caller(string AccountSid, string? ApiKeySid);
