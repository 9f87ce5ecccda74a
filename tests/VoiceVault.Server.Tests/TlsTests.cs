using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Twilio.Clients;
using SystemNetHttpClient = Twilio.Http.SystemNetHttpClient;
using Twilio.Rest.Api.V2010.Account;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The vault over HTTPS from PEM files (VoiceVault:Tls:CertificatePath/KeyPath), as a client that
/// trusts only a test CA sees it: the official Twilio SDK, an upload, a Media Stream over wss://,
/// and the console's HSTS and __Host- cookie. A client that does not trust the CA gets nowhere.
/// </summary>
public sealed class TlsTests
{
    /// <summary>A throwaway CA and a server certificate for 127.0.0.1 and localhost, as PEM files.</summary>
    private sealed class TestPki : IDisposable
    {
        public TestPki()
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("vv-tls-").FullName;
            using var caKey = RSA.Create(2048);
            var caRequest = new CertificateRequest("CN=VoiceVault test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            Ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            using var serverKey = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            using var server = request.Create(Ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), RandomNumberGenerator.GetBytes(8));
            CertificatePath = Path.Combine(Directory, "server.pem");
            KeyPath = Path.Combine(Directory, "server.key");
            File.WriteAllText(CertificatePath, server.ExportCertificatePem() + "\n");
            File.WriteAllText(KeyPath, serverKey.ExportPkcs8PrivateKeyPem() + "\n");
        }

        public string Directory { get; }

        public X509Certificate2 Ca { get; }

        public string CertificatePath { get; }

        public string KeyPath { get; }

        /// <summary>Accepts the server's certificate only if it chains to this CA (and names the host).</summary>
        public bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
        {
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        }

        public void Dispose()
        {
            Ca.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    /// <summary>The Twilio SDK's requests for api.twilio.com, sent to the vault over TLS trusting <paramref name="pki"/>'s CA (or nothing else).</summary>
    private sealed class ToVaultOverTls(Uri vault, TestPki? pki) : DelegatingHandler(new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, errors) => pki?.Validate(certificate, errors) ?? errors == SslPolicyErrors.None },
    })
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.RequestUri = new Uri(vault, request.RequestUri!.PathAndQuery);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task The_twilio_sdk_an_upload_a_wss_media_stream_and_the_console_work_over_https_with_a_test_ca()
    {
        using var pki = new TestPki();
        await using var vault = await VaultServer.StartAsync(extraArgs:
            ["--urls", "https://127.0.0.1:0", "--VoiceVault:Tls:CertificatePath", pki.CertificatePath, "--VoiceVault:Tls:KeyPath", pki.KeyPath]);
        Assert.Equal("https", vault.BaseUri.Scheme);
        using var sdkHttp = new HttpClient(new ToVaultOverTls(vault.BaseUri, pki));
        var twilio = new TwilioRestClient(vault.AccountSid, vault.AuthToken, httpClient: new SystemNetHttpClient(sdkHttp));

        var account = await Twilio.Rest.Api.V2010.AccountResource.FetchAsync(pathSid: vault.AccountSid, client: twilio);
        Assert.Equal(vault.AccountSid, account.Sid);
        using var rsa = RSA.Create(2048);
        var key = await Twilio.Rest.Accounts.V1.Credential.PublicKeyResource.CreateAsync(publicKey: rsa.ExportSubjectPublicKeyInfoPem(), client: twilio);
        using var https = new HttpClient(new ToVaultOverTls(vault.BaseUri, pki)) { BaseAddress = vault.BaseUri };
        https.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{vault.AccountSid}:{vault.AuthToken}")));
        (await https.PostAsync($"/2010-04-01/Accounts/{vault.AccountSid}/RecordingEncryption.json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["Enabled"] = "true", ["PublicKeySid"] = key.Sid }))).EnsureSuccessStatusCode();
        var wav = Audio.Wav(2);
        var uploaded = await https.PutAsync($"/v1/Ingest/Calls/{Audio.CallSid()}/Recording", new ByteArrayContent(wav));
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);

        // A live call over wss://, as Twilio's Media Streams would send it.
        await using (var stream = await MediaStream.ConnectAsync(vault.BaseUri, vault.AccountSid, vault.AuthToken,
            options => options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => pki.Validate(certificate, errors)))
        {
            await stream.StartAsync();
            for (int i = 0; i < 50; i++)
            {
                await stream.MediaAsync("inbound", i * 20, MediaStream.Frame());
            }
            await stream.StopAsync();
            await Eventually.TrueAsync(async () => (await RecordingResource.ReadAsync(callSid: stream.CallSid, client: twilio)).Any(r => r.Status.ToString() == "completed"),
                "the live call's recording completes");
        }
        var recordings = (await RecordingResource.ReadAsync(client: twilio)).ToList();
        Assert.Equal(2, recordings.Count);
        Assert.All(recordings, r => Assert.Contains(key.Sid, r.EncryptionDetails?.ToString() ?? "", StringComparison.Ordinal));

        // The console under HTTPS: HSTS, and a cookie the browser keeps to this origin and TLS.
        var page = await https.GetAsync("/console");
        Assert.Equal("max-age=31536000", page.Headers.GetValues("Strict-Transport-Security").Single());
        using var anonymous = new HttpClient(new ToVaultOverTls(vault.BaseUri, pki)) { BaseAddress = vault.BaseUri };
        var signIn = await anonymous.PostAsync("/console/session", new StringContent(JsonSerializer.Serialize(new { sid = vault.AccountSid, secret = vault.AuthToken }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, signIn.StatusCode);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith("__Host-vv_console=", cookie, StringComparison.Ordinal);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);

        // Nobody else's trust: the default trust store does not know the test CA; plain HTTP gets no answer.
        using var untrusting = new HttpClient(new ToVaultOverTls(vault.BaseUri, null));
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("https://api.twilio.com/healthz"));
        using var plain = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync($"http://{vault.BaseUri.Authority}/healthz"));
    }

    [Fact]
    public async Task A_certificate_set_up_wrongly_stops_the_start_with_what_is_wrong()
    {
        using var pki = new TestPki();
        var other = RSA.Create(2048);
        var otherKey = Path.Combine(pki.Directory, "other.key");
        File.WriteAllText(otherKey, other.ExportPkcs8PrivateKeyPem());
        foreach (var (args, says) in new (string[] Args, string Says)[]
        {
            (["--VoiceVault:Tls:CertificatePath", pki.CertificatePath], "needs both CertificatePath"),
            (["--VoiceVault:Tls:CertificatePath", pki.CertificatePath, "--VoiceVault:Tls:KeyPath", Path.Combine(pki.Directory, "missing.key")], "missing.key' does not exist"),
            (["--VoiceVault:Tls:CertificatePath", pki.CertificatePath, "--VoiceVault:Tls:KeyPath", otherKey], "are not a PEM certificate and its unencrypted private key"),
        })
        {
            var e = await Assert.ThrowsAsync<Core.StartupException>(() => VaultServer.StartAsync(extraArgs: ["--urls", "https://127.0.0.1:0", .. args]));
            Assert.Contains(says, e.Message, StringComparison.Ordinal);
        }
    }
}
