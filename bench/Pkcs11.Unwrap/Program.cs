// CEK unwraps per second: in-process RSA-OAEP-SHA256 (what a key file gets) against keys in
// PKCS#11 tokens, each made fresh in its token, one session, one unwrap at a time (as fetch and
// receive use a token key). Every unwrap is checked against the CEK that was wrapped.
// usage: Pkcs11.Unwrap COUNT BITS NAME=URI[|host] ...   (|host: OAEP decoded on the host)
using System.Diagnostics;
using System.Security.Cryptography;
using VoiceVault.Crypto;

int count = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
int bits = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var cek = RandomNumberGenerator.GetBytes(32);

double Rate(RSA key)
{
    var wrapped = KeyWrap.Wrap(key, ContentKey.FromBytes(cek));
    for (int i = 0; i < Math.Min(20, count); i++)
    {
        using var warm = KeyWrap.Unwrap(key, wrapped);
    }
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < count; i++)
    {
        using var unwrapped = KeyWrap.Unwrap(key, wrapped);
        if (!unwrapped.Bytes.SequenceEqual(cek))
        {
            throw new InvalidOperationException("an unwrap returned another CEK");
        }
    }
    return count / clock.Elapsed.TotalSeconds;
}

using var software = RSA.Create(bits);
double reference = Rate(software);
Console.WriteLine($"| key | OAEP runs in | unwraps/s | vs in-process RSA |");
Console.WriteLine($"|---|---|---:|---:|");
Console.WriteLine($"| in-process RSA-{bits} (a key file) | this process | {reference:F0} | 1.00 |");
foreach (var spec in args.Skip(2))
{
    var (name, rest) = (spec[..spec.IndexOf('=')], spec[(spec.IndexOf('=') + 1)..]);
    bool host = rest.EndsWith("|host", StringComparison.Ordinal);
    var uri = host ? rest[..^"|host".Length] : rest;
    Func<string, string?> environment = variable => variable == Pkcs11Key.OaepVariable ? (host ? "host" : "token") : Environment.GetEnvironmentVariable(variable);
    using var key = Pkcs11Key.Generate(uri, bits, environment);
    double rate = Rate(key);
    Console.WriteLine($"| {name} RSA-{bits} | {(host ? "this process (raw RSA in the token)" : "the token")} | {rate:F0} | {rate / reference:F2} |");
}
