using VoiceVault.Server.Core;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VoiceVault.Server;

/// <summary>
/// HTTPS from PEM files: <c>VoiceVault:Tls:CertificatePath</c> (the certificate, followed by its
/// intermediates if any) and <c>VoiceVault:Tls:KeyPath</c> (its private key, unencrypted, readable
/// by the service alone). Every <c>https://</c> address in <c>--urls</c> serves with it — the API,
/// the console (with HSTS) and Media Streams as <c>wss://</c>. TLS 1.2 and 1.3 only. Read once at
/// start; a renewed certificate takes a restart.
/// </summary>
public static class VaultTls
{
    public const string Section = "VoiceVault:Tls";

    public static void Configure(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var certificatePath = builder.Configuration[Section + ":CertificatePath"];
        var keyPath = builder.Configuration[Section + ":KeyPath"];
        if (string.IsNullOrEmpty(certificatePath) && string.IsNullOrEmpty(keyPath))
        {
            return;
        }
        var (certificate, chain) = Load(certificatePath, keyPath);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = certificate;
            https.ServerCertificateChain = chain;
            https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        }));
    }

    /// <summary>The certificate with its key, and the intermediates that follow it in the file.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) Load(string? certificatePath, string? keyPath)
    {
        if (string.IsNullOrEmpty(certificatePath) || string.IsNullOrEmpty(keyPath))
        {
            throw new StartupException($"{Section} needs both CertificatePath (the certificate PEM) and KeyPath (its private key PEM)", "give VoiceVault:Tls:CertificatePath (the certificate PEM, intermediates after it) and VoiceVault:Tls:KeyPath (its unencrypted private key PEM), both readable by the vault");
        }
        foreach (var (path, what) in new[] { (certificatePath, "CertificatePath"), (keyPath, "KeyPath") })
        {
            if (!File.Exists(path))
            {
                throw new StartupException($"{Section}:{what} '{path}' does not exist", "give VoiceVault:Tls:CertificatePath (the certificate PEM, intermediates after it) and VoiceVault:Tls:KeyPath (its unencrypted private key PEM), both readable by the vault");
            }
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (CryptographicException e)
        {
            throw new StartupException(
                $"{Section}: '{certificatePath}' and '{keyPath}' are not a PEM certificate and its unencrypted private key ({e.Message})", "give VoiceVault:Tls:CertificatePath (the certificate PEM, intermediates after it) and VoiceVault:Tls:KeyPath (its unencrypted private key PEM), both readable by the vault", e);
        }
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(certificatePath);
        // The first certificate is the server's own; the rest are its intermediates.
        var intermediates = new X509Certificate2Collection(chain.Skip(1).ToArray());
        if (certificate.NotAfter < DateTime.Now)
        {
            throw new StartupException($"{Section}: the certificate in '{certificatePath}' expired on {certificate.NotAfter:yyyy-MM-dd}", "renew the certificate and restart the vault");
        }
        return (certificate, intermediates);
    }
}
