using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using VoiceVault.Crypto;
using VoiceVault.Server.Api;
using VoiceVault.Server.Api.Ingest;
using VoiceVault.Server.Api.Recordings;
using VoiceVault.Server.Core;
using VoiceVault.Server.Live;
using VoiceVault.Server.Webhooks;

namespace VoiceVault.Fuzz;

/// <summary>
/// One parser that sees outside bytes: how its inputs are made (valid examples, mutated — bits
/// flipped, bytes set to edge values, ranges inserted, deleted, duplicated, spliced from another
/// example, truncated — and plain random bytes), how it is run, and which exceptions are its
/// documented answers to bad input. Any other exception is a crash.
/// </summary>
public sealed record FuzzTarget(string Name, Gen<byte[]> Inputs, Action<byte[]> Run, Func<Exception, bool> Expected);

public static class Targets
{
    private static readonly Lazy<IReadOnlyList<FuzzTarget>> Made = new(Make);

    /// <summary>Every target, by name.</summary>
    public static IReadOnlyList<FuzzTarget> All => Made.Value;

    private static IReadOnlyList<FuzzTarget> Make()
    {
        var keys = KeySeeds();
        var encrypted = keys.Where(k => Encoding.ASCII.GetString(k).Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)).ToArray();
        var addresses = new CallbackAddresses([]);
        return
        [
            new("key-file", Mutated(keys), input =>
            {
                KeyFile.Describe(input);
                Attempt(() => KeyFile.LoadPrivateKey(input, () => "fuzz-passphrase".ToCharArray()).Dispose());
                Attempt(() => KeyFile.LoadPublicKey(input).Dispose());
            }, e => e is RecordingCryptoException),

            // A passphrase (any text) and an encrypted PKCS#8 key (mutated), as [length][passphrase][key].
            new("pkcs8-passphrase", Gen.Select(Gen.String[0, 64], Mutated(encrypted), (passphrase, key) =>
            {
                var text = Encoding.UTF8.GetBytes(passphrase);
                return (byte[])[(byte)(text.Length >> 8), (byte)text.Length, .. text, .. key];
            }), input =>
            {
                int length = input.Length < 2 ? 0 : Math.Min(input.Length - 2, (input[0] << 8) | input[1]);
                var passphrase = Encoding.UTF8.GetString(input.AsSpan(2, length));
                KeyFile.LoadPrivateKey(input.AsSpan(2 + length), () => passphrase.ToCharArray()).Dispose();
            }, e => e is RecordingCryptoException),

            new("encryption-details", Mutated(DetailsSeeds()), input => EncryptionDetails.Parse(Encoding.UTF8.GetString(input)),
                e => e is RecordingCryptoException),

            new("wav-header", Mutated(WavSeeds()), input =>
            {
                var header = WavHeader.Parse(input, out var problem);
                if (header is not null)
                {
                    header.DurationSeconds(input.LongLength + 1_000_000);
                }
                else if (problem is null)
                {
                    throw new InvalidOperationException("no header and no problem named");
                }
            }, _ => false),

            new("media-stream-message", Mutated(MediaStreamSeeds()), input =>
            {
                var parser = new MediaStreamParser();
                Attempt(() => parser.Read(input, out _));
                Attempt(() =>
                {
                    var start = MediaStreamParser.ParseStart(input);
                    if (start.CallSid is null || start.StreamSid is null || start.Encoding is null || start.Tracks.Any(t => t is null))
                    {
                        throw new InvalidOperationException("a start message read with a field missing");
                    }
                });
            }, e => e is MediaStreamProtocolException),

            new("form-body", Mutated(FormSeeds()), input =>
            {
                var context = new DefaultHttpContext();
                context.Request.ContentType = "application/x-www-form-urlencoded";
                context.Request.ContentLength = input.Length;
                context.Request.Body = new MemoryStream(input);
                var form = context.ReadFormAsync().GetAwaiter().GetResult();
                FormFields.FriendlyName(form.TryGetValue("FriendlyName", out var name) ? name.ToString() : null);
                Parameters(form, addresses);
            }, e => e is ApiException),

            new("query-string", Mutated(QuerySeeds()), input =>
            {
                var query = new QueryCollection(QueryHelpers.ParseQuery(Encoding.UTF8.GetString(input)));
                Attempt(() => new PageQuery(Value(query, "PageSize"), Value(query, "Page"), Value(query, "PageToken")).Request());
                Attempt(() => Parameters(query, addresses));
                foreach (var name in new[] { "DateCreated", "DateCreated>", "DateCreated<" })
                {
                    if (query.TryGetValue(name, out var value))
                    {
                        Attempt(() => RecordingEndpoints.ParseDate(value.ToString(), name));
                    }
                }
            }, e => e is ApiException),

            // A Range header and a media length (the first 4 bytes), with the answer's invariants.
            new("range-header", Mutated(RangeSeeds()), input =>
            {
                long length = input.Length < 4 ? 0 : BitConverter.ToUInt32(input, 0) % 10_000_000;
                var header = Encoding.UTF8.GetString(input.AsSpan(Math.Min(4, input.Length)));
                var range = RecordingEndpoints.ParseRange(header, length);
                if (range is { Valid: true } && (range.Start < 0 || range.Length < 1 || range.Start + range.Length > length))
                {
                    throw new InvalidOperationException($"range {range.Start}+{range.Length} outside a {length}-byte media");
                }
            }, _ => false),

            new("pkcs11-uri", Mutated(Pkcs11Seeds()), input =>
            {
                var uri = Pkcs11Uri.Parse(Encoding.UTF8.GetString(input));
                _ = (uri.Redacted, uri.Token, uri.Object, uri.Id, uri.SlotId);
            }, e => e is RecordingCryptoException),
        ];
    }

    private static string? Value(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> fields, string name) =>
        fields.Where(f => f.Key == name).Select(f => f.Value.ToString()).FirstOrDefault();

    /// <summary>The Recording* parameters as the binder hands them over: each one's text, null when absent.</summary>
    private static RecordingParameters Parameters(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> fields, CallbackAddresses addresses)
    {
        var all = fields.ToList();
        return RecordingParameters.From(Value(all, "RecordingStatusCallback"), Value(all, "RecordingStatusCallbackMethod"),
            all.Where(f => f.Key == "RecordingStatusCallbackEvent").Select(f => (Microsoft.Extensions.Primitives.StringValues?)f.Value).FirstOrDefault(),
            Value(all, "RecordingChannels"), Value(all, "RecordingTrack"), addresses);
    }

    // Bad input answered as documented is what the parser should do; that is not a finding.
    private static void Attempt(Action run)
    {
        try
        {
            run();
        }
        catch (Exception e) when (e is RecordingCryptoException or MediaStreamProtocolException or ApiException)
        {
        }
    }

    /// <summary>Valid examples, mutated, with some plain random bytes among them.</summary>
    public static Gen<byte[]> Mutated(byte[][] seeds) =>
        Gen.Frequency(
            (1, Gen.Byte.Array[0, 256]),
            (2, Gen.Int[0, seeds.Length - 1].Select(i => seeds[i])),
            (12, Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[1, 6], Gen.Int.Array[24], Gen.Byte.Array[1, 16],
                (i, count, random, bytes) => Mutate(seeds[i], count, random, bytes, seeds))));

    private static readonly byte[] Edges = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0x30, 0x2D, 0x3D, 0x22, 0x7B, 0x7D, 0x25, 0x26];

    private static byte[] Mutate(byte[] seed, int count, int[] random, byte[] bytes, byte[][] seeds)
    {
        var data = new List<byte>(seed);
        int r = 0;
        int Next(int max) => max <= 0 ? 0 : (int)((uint)random[r++ % random.Length] % (uint)max);
        for (int n = 0; n < count; n++)
        {
            int at = Next(data.Count + 1);
            switch (Next(8))
            {
                case 0 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] = Edges[Next(Edges.Length)];
                    break;
                case 2:
                    data.InsertRange(at, bytes);
                    break;
                case 3 when data.Count > 0:
                    data.RemoveRange(Math.Min(at, data.Count - 1), Math.Min(1 + Next(64), data.Count - Math.Min(at, data.Count - 1)));
                    break;
                case 4:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 5 when data.Count > 0:
                    int start = Next(data.Count), length = Math.Min(1 + Next(64), data.Count - start);
                    data.InsertRange(at, data.GetRange(start, length));
                    break;
                case 6:
                    var other = seeds[Next(seeds.Length)];
                    int from = Next(other.Length);
                    data.InsertRange(at, other.AsSpan(from, Math.Min(1 + Next(128), other.Length - from)).ToArray());
                    break;
                default:
                    // A number where one was: the edges of what parsers read as lengths and counts.
                    data.InsertRange(at, Encoding.ASCII.GetBytes(new[] { "0", "-1", "4294967296", "99999999999999999999", "1e308", "NaN" }[Next(6)]));
                    break;
            }
        }
        return [.. data];
    }

    private static byte[][] KeySeeds()
    {
        using var rsa = RSA.Create(2048);
        using var small = RSA.Create(1024);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fuzz", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        // Few PBKDF2 rounds: a mutated key is tried a million times, and the rounds are not what is tested.
        var quick = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10);
        var quick128 = new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA1, 10);
        string[] pems =
        [
            rsa.ExportRSAPrivateKeyPem(), rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportSubjectPublicKeyInfoPem(), rsa.ExportRSAPublicKeyPem(),
            rsa.ExportEncryptedPkcs8PrivateKeyPem("fuzz-passphrase", quick), small.ExportEncryptedPkcs8PrivateKeyPem("other", quick128),
            small.ExportPkcs8PrivateKeyPem(), ec.ExportPkcs8PrivateKeyPem(), certificate.ExportCertificatePem(),
            // Armours of kinds the tool refuses, around random bytes (no key is kept in the source).
            PemEncoding.WriteString("OPENSSH PRIVATE KEY", RandomNumberGenerator.GetBytes(96)),
            LegacyEncrypted(rsa.ExportRSAPrivateKeyPem()),
        ];
        return
        [
            .. pems.Select(Encoding.ASCII.GetBytes),
            rsa.ExportRSAPrivateKey(), rsa.ExportPkcs8PrivateKey(), rsa.ExportSubjectPublicKeyInfo(), rsa.ExportRSAPublicKey(),
            rsa.ExportEncryptedPkcs8PrivateKey("fuzz-passphrase", quick), certificate.RawData,
        ];
    }

    // OpenSSL's old "traditional" encryption: headers after the BEGIN line (refused, with the command that converts it).
    private static string LegacyEncrypted(string pem)
    {
        int line = pem.IndexOf('\n', StringComparison.Ordinal) + 1;
        return pem[..line] + "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n" + pem[line..];
    }

    private static byte[][] DetailsSeeds()
    {
        var cek = Convert.ToBase64String(RandomNumberGenerator.GetBytes(256));
        var iv = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12));
        const string sid = "CR0123456789abcdef0123456789abcdef";
        return
        [
            .. new[]
            {
                $$$"""{"type":"rsa-aes","public_key_sid":"{{{sid}}}","encrypted_cek":"{{{cek}}}","iv":"{{{iv}}}"}""",
                $$$"""{"sid":"RE{{{new string('a', 32)}}}","status":"completed","encryption_details":{"type":"rsa-aes","encryption_public_key_sid":"{{{sid}}}","encryption_cek":"{{{cek}}}","encryption_iv":"{{{iv}}}"}}""",
                $$$"""{"EncryptionDetails":"{\"type\":\"rsa-aes\",\"public_key_sid\":\"{{{sid}}}\",\"encrypted_cek\":\"{{{cek}}}\",\"iv\":\"{{{iv}}}\"}"}""",
                $$$"""{"encryption_details":null,"status":"failed","error_code":16104}""",
                "[]", "{}", "\"rsa-aes\"",
            }.Select(Encoding.UTF8.GetBytes),
        ];
    }

    private static byte[][] WavSeeds()
    {
        byte[] Wav(int channels, int rate, int bits, int data, bool extra)
        {
            using var stream = new MemoryStream();
            using var writer = new BinaryWriter(stream);
            writer.Write("RIFF"u8);
            writer.Write(36 + data);
            writer.Write("WAVE"u8);
            if (extra)
            {
                writer.Write("LIST"u8);
                writer.Write(5);
                writer.Write("INFOx\0"u8);
            }
            writer.Write("fmt "u8);
            writer.Write(16);
            writer.Write((short)1);
            writer.Write((short)channels);
            writer.Write(rate);
            writer.Write(rate * channels * bits / 8);
            writer.Write((short)(channels * bits / 8));
            writer.Write((short)bits);
            writer.Write("data"u8);
            writer.Write(data);
            writer.Write(new byte[Math.Min(data, 64)]);
            return stream.ToArray();
        }
        return [Wav(1, 8000, 16, 16000, false), Wav(2, 8000, 16, 32000, true), Wav(1, 44100, 8, 100, false), Wav(2, 48000, 24, 0, true)];
    }

    private static byte[][] MediaStreamSeeds()
    {
        var payload = Convert.ToBase64String(RandomNumberGenerator.GetBytes(160));
        const string stream = "MZ0123456789abcdef0123456789abcdef", call = "CA0123456789abcdef0123456789abcdef", account = "AC0123456789abcdef0123456789abcdef";
        return
        [
            .. new[]
            {
                """{"event":"connected","protocol":"Call","version":"1.0.0"}""",
                $$$"""{"event":"start","sequenceNumber":"1","start":{"accountSid":"{{{account}}}","streamSid":"{{{stream}}}","callSid":"{{{call}}}","tracks":["inbound","outbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"RecordingStatusCallback":"https://example.com/cb","Trim":"trim-silence"}},"streamSid":"{{{stream}}}"}""",
                $$$"""{"event":"media","sequenceNumber":"3","media":{"track":"outbound","chunk":"1","timestamp":"5","payload":"{{{payload}}}"},"streamSid":"{{{stream}}}"}""",
                $$$"""{"event":"mark","sequenceNumber":"4","streamSid":"{{{stream}}}","mark":{"name":"my label"}}""",
                $$$"""{"event":"dtmf","streamSid":"{{{stream}}}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}""",
                $$$"""{"event":"stop","sequenceNumber":"6","stop":{"accountSid":"{{{account}}}","callSid":"{{{call}}}"},"streamSid":"{{{stream}}}"}""",
            }.Select(Encoding.UTF8.GetBytes),
        ];
    }

    private static byte[][] FormSeeds() =>
    [
        .. new[]
        {
            "FriendlyName=My+sub&Status=active",
            "PublicKey=-----BEGIN%20PUBLIC%20KEY-----%0AMIIB%0A-----END%20PUBLIC%20KEY-----&FriendlyName=key",
            "Enabled=true&PublicKeySid=CR0123456789abcdef0123456789abcdef",
            "RecordingStatusCallback=https%3A%2F%2Fuser%3Apass%40example.com%2Fcb%3Fx%3D1&RecordingStatusCallbackEvent=in-progress%20completed&RecordingChannels=dual&RecordingTrack=both",
            "Status=paused&PauseBehavior=skip", "a=1&a=2&a=&=&&&", "%zz=%e2%82",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static byte[][] QuerySeeds() =>
    [
        .. new[]
        {
            "?PageSize=50&Page=1&PageToken=PA123", "?DateCreated=2026-12-01&CallSid=CA0123456789abcdef0123456789abcdef",
            "?DateCreated>=2026-01-01T10:00:00Z&DateCreated<=2026-12-31", "?PageToken=PB9223372036854775807&PageSize=1000",
            "?RecordingStatusCallback=http%3A%2F%2F2130706433%2F&RecordingStatusCallbackMethod=GET",
            "?RecordingStatusCallback=http%3A%2F%2F%5B%3A%3Affff%3A127.0.0.1%5D%2F", "?Status=completed,failed&EncryptionPublicKeySid=CR00",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static byte[][] RangeSeeds() =>
    [
        .. new[] { "bytes=0-99", "bytes=-500", "bytes=100-", "bytes=0-0,5-9", "bytes=9223372036854775806-9223372036854775807", "items=0-1", "bytes=5-1" }
            .Select(h => (byte[])[.. BitConverter.GetBytes(1000u), .. Encoding.ASCII.GetBytes(h)]),
    ];

    private static byte[][] Pkcs11Seeds() =>
    [
        .. new[]
        {
            "pkcs11:token=vault;object=recordings", "pkcs11:token=My%20Vault;object=rec%2F1;id=%01%ff?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:///etc/pin",
            "pkcs11:object=k;type=private;serial=42;slot-id=7?pin-value=1234", "pkcs11:id=%00;x-vendor=1", "pkcs11:", "pkcs11:object=a;object=b",
        }.Select(Encoding.UTF8.GetBytes),
    ];
}
