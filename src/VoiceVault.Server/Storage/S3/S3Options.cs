namespace VoiceVault.Server.Storage.S3;

/// <summary>The <c>VoiceVault:S3</c> configuration section (docs/api.md §11).</summary>
public sealed record S3Options
{
    /// <summary>The S3 endpoint, e.g. http://127.0.0.1:7480 for a Ceph RGW; absent: AWS in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string Bucket { get; set; } = "";

    /// <summary>The region requests are signed for (and AWS's endpoint when no ServiceUrl is given).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Bucket in the path (http://host/bucket/key) rather than the host name: most self-hosted stores need it.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>A folder inside the bucket for this vault's objects (several vaults may share one bucket).</summary>
    public string? Prefix { get; set; }

    /// <summary>The size of a multipart upload's parts, and so the memory one write holds (5 to 5120).</summary>
    public int PartSizeMiB { get; set; } = 8;

    /// <summary>
    /// When above 0, a GET of customer-encrypted media answers 302 with a pre-signed URL of the
    /// object valid this many seconds, as Twilio's media URLs do, and the client reads the
    /// ciphertext from S3 itself; the S3 endpoint must then be reachable by clients. 0 (the
    /// default): the vault relays the bytes. Media under the server-managed key is always relayed
    /// (the vault decrypts it).
    /// </summary>
    public int MediaRedirectSeconds { get; set; }

    /// <summary>Creates the bucket at start when it does not exist (for local set-ups; in production, create it with its policies).</summary>
    public bool CreateBucket { get; set; }
}
