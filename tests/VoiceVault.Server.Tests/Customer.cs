using System.Security.Cryptography;
using System.Text.Json;
using Twilio.Rest.Accounts.V1.Credential;
using VoiceVault.Crypto;

namespace VoiceVault.Server.Tests;

/// <summary>
/// What a customer of the vault does, one helper each: register a public key, turn encryption on
/// with it, and decrypt what the vault hands out with the private key — outside the vault.
/// </summary>
internal static class Customer
{
    /// <summary>Registers the public half of <paramref name="rsa"/> for <paramref name="accountSid"/> (the main account by default); its SID.</summary>
    public static async Task<string> AddKeyAsync(this VaultServer vault, RSA rsa, string? accountSid = null) =>
        (await PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), friendlyName: "customer key", accountSid: accountSid, client: vault.Twilio())).Sid;

    /// <summary>Sets the encryption setting of <paramref name="accountSid"/>, as <paramref name="caller"/> (the main account by default).</summary>
    public static async Task SetEncryptionAsync(this VaultServer vault, string accountSid, bool enabled, string publicKeySid = "", (string User, string Password)? caller = null)
    {
        var (user, password) = caller ?? (vault.AccountSid, vault.AuthToken);
        using var http = vault.Http(user, password);
        (await http.PostAsync($"/2010-04-01/Accounts/{accountSid}/RecordingEncryption.json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["Enabled"] = enabled ? "true" : "false", ["PublicKeySid"] = publicKeySid }))).EnsureSuccessStatusCode();
    }

    /// <summary>A new key, registered and configured for <paramref name="accountSid"/> (the main account by default) by the main account.</summary>
    public static async Task<(RSA Key, string Sid)> EnableEncryptionAsync(this VaultServer vault, string? accountSid = null)
    {
        accountSid ??= vault.AccountSid;
        var rsa = RSA.Create(2048);
        var sid = await vault.AddKeyAsync(rsa, accountSid);
        await vault.SetEncryptionAsync(accountSid, enabled: true, sid);
        return (rsa, sid);
    }

    /// <summary>The recording's audio, decrypted the way a customer does it: unwrap the key with the private key, then AES-GCM.</summary>
    public static byte[] Decrypt(RSA privateKey, EncryptionDetails details, byte[] stored)
    {
        using var cek = KeyWrap.Unwrap(privateKey, details.EncryptedCek);
        using var output = new MemoryStream();
        RecordingDecryptor.Decrypt(new MemoryStream(stored), output, cek, details.Iv);
        return output.ToArray();
    }

    /// <summary>The call's one recording of <paramref name="accountSid"/> (the main account by default), completed, and its audio decrypted.</summary>
    public static async Task<(JsonElement Recording, byte[] Wav)> FetchAndDecryptAsync(this VaultServer vault, string callSid, RSA rsa, string? accountSid = null)
    {
        accountSid ??= vault.AccountSid;
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        var list = JsonDocument.Parse(await http.GetStringAsync($"/2010-04-01/Accounts/{accountSid}/Calls/{callSid}/Recordings.json")).RootElement;
        var recording = Assert.Single(list.GetProperty("recordings").EnumerateArray()).Clone();
        Assert.Equal("completed", recording.GetProperty("status").GetString());
        var stored = await http.GetByteArrayAsync($"/2010-04-01/Accounts/{accountSid}/Recordings/{recording.GetProperty("sid").GetString()}");
        return (recording, Decrypt(rsa, EncryptionDetails.Parse(recording.GetRawText()), stored));
    }
}
