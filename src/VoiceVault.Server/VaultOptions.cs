namespace VoiceVault.Server;

/// <summary>The <c>VoiceVault</c> configuration section.</summary>
public sealed class VaultOptions
{
    public const string Section = "VoiceVault";

    /// <summary>Where the embedded store keeps its database, media and master key.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>The base of absolute links (RecordingUrl, media_url), e.g. https://vault.example.com.</summary>
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Where live recordings keep their spools (per instance: ciphertext under keys only its memory holds).</summary>
    public string SpoolDir => Path.Combine(DataDir, "spool");

    /// <summary>The metadata backend: <c>sqlite</c> (embedded, in the data folder) or <c>postgres</c> (<c>ConnectionStrings:VoiceVault</c>).</summary>
    public string Database { get; set; } = "sqlite";

    /// <summary>Where media objects live: <c>files</c> (under the data folder) or <c>s3</c> (<see cref="S3"/>).</summary>
    public string Media { get; set; } = "files";

    public Storage.S3.S3Options S3 { get; set; } = new();

    /// <summary>The master key (base64, 32 bytes); default: a 0600 file <c>master.key</c> in the data folder.</summary>
    public string? MasterKey { get; set; }

    /// <summary>The largest upload accepted, in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 4L << 30;

    /// <summary>The longest a live call is recorded; at the limit its recordings are completed and the stream is closed.</summary>
    public int MaxCallSeconds { get; set; } = 4 * 3600;

    /// <summary>A live stream that sends nothing for this long is taken as ended.</summary>
    public int StreamIdleSeconds { get; set; } = 60;

    /// <summary>
    /// This instance's name among several on one database: the recordings it is storing or
    /// recording live are its own. A restart under the same name ends its unfinished recordings at
    /// once; an instance whose heartbeat is older than <see cref="InstanceLeaseSeconds"/> has its
    /// recordings ended by any other. Defaults to the host name: give instances that share a host
    /// and a database a name each.
    /// </summary>
    public string InstanceId { get; set; } = Environment.MachineName;

    /// <summary>
    /// The URL other instances reach this one at (recording control of a call streaming here is
    /// sent to it), e.g. http://10.0.0.5:5080. Defaults to the address Kestrel listens on when that
    /// names a host; set it when listening on 0.0.0.0 or behind a NAT.
    /// </summary>
    public string? InstanceUrl { get; set; }

    /// <summary>How long an instance may go without a heartbeat (written every third of it) before it is taken as dead.</summary>
    public int InstanceLeaseSeconds { get; set; } = 30;

    public BootstrapOptions Bootstrap { get; set; } = new();

    /// <summary>What one client or one account may do at once (VoiceVault:Limits:…); per instance.</summary>
    public LimitOptions Limits { get; set; } = new();

    public sealed class LimitOptions
    {
        /// <summary>Failed authentications one client address may make in a burst…</summary>
        public int FailedAuthenticationsPerAddress { get; set; } = 10;

        /// <summary>…and how many more each minute after it.</summary>
        public int FailedAuthenticationsPerAddressPerMinute { get; set; } = 10;

        /// <summary>Failed authentications against one account (or API key) from all addresses together, in a burst…</summary>
        public int FailedAuthenticationsPerAccount { get; set; } = 100;

        /// <summary>…and how many more each minute after it.</summary>
        public int FailedAuthenticationsPerAccountPerMinute { get; set; } = 30;

        /// <summary>Uploads one account may have in progress at once.</summary>
        public int ConcurrentUploadsPerAccount { get; set; } = 16;

        /// <summary>Live media streams one account may have open at once.</summary>
        public int ConcurrentStreamsPerAccount { get; set; } = 200;

        /// <summary>The largest request body but an upload's (which <see cref="MaxUploadBytes"/> bounds).</summary>
        public long MaxRequestBodyBytes { get; set; } = 1 << 20;

        /// <summary>How long a client may take to send its request headers (a slow-loris client is cut off after it).</summary>
        public int RequestHeadersTimeoutSeconds { get; set; } = 15;

        /// <summary>The slowest a request body may arrive, in bytes a second, after a 5 s grace.</summary>
        public int MinRequestBodyBytesPerSecond { get; set; } = 240;
    }

    /// <summary>The audit trail (VoiceVault:Audit:…, docs/audit.md).</summary>
    public AuditOptions Audit { get; set; } = new();

    public sealed class AuditOptions
    {
        /// <summary>How often each chain with new events gets a signed checkpoint.</summary>
        public int CheckpointSeconds { get; set; } = 300;

        /// <summary>Where each checkpoint is also POSTed, signed (none when unset).</summary>
        public string? WitnessUrl { get; set; }

        /// <summary>Events older than this many days are pruned, up to a checkpoint (unset: kept for ever).</summary>
        public int? RetentionDays { get; set; }

        /// <summary>The window failed authentications are counted in (SPEC: a minute; shorter only for tests).</summary>
        public int FailedAuthenticationSeconds { get; set; } = 60;

        public void Validate()
        {
            if (CheckpointSeconds is < 1 or > 86_400)
            {
                throw new Core.StartupException($"VoiceVault:Audit:CheckpointSeconds is {CheckpointSeconds}", "give 1 to 86400 seconds (a day); the default is 300");
            }
            if (RetentionDays is < 1)
            {
                throw new Core.StartupException($"VoiceVault:Audit:RetentionDays is {RetentionDays}", "give a number of days of at least 1, or leave it out to keep every event");
            }
            if (FailedAuthenticationSeconds is < 1 or > 3600)
            {
                throw new Core.StartupException($"VoiceVault:Audit:FailedAuthenticationSeconds is {FailedAuthenticationSeconds}", "give 1 to 3600 seconds; the default (60) is what docs/audit.md describes");
            }
            if (!string.IsNullOrWhiteSpace(WitnessUrl) && !(Uri.TryCreate(WitnessUrl, UriKind.Absolute, out var witness) && witness.Scheme is "https" or "http"))
            {
                throw new Core.StartupException($"VoiceVault:Audit:WitnessUrl '{WitnessUrl}' is not an http(s) URL", "give the absolute URL checkpoints are POSTed to, or leave it out");
            }
        }
    }

    public sealed class BootstrapOptions
    {
        public string? AccountSid { get; set; }

        public string? AuthToken { get; set; }
    }
}
