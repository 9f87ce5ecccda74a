namespace VoiceVault.Server.Core;

/// <summary>
/// The media seam: opaque keys and byte streams, nothing about accounts or recordings. Everything
/// written through it is already ciphertext.
/// </summary>
public interface IMediaStore
{
    /// <summary>Starts writing an object; it becomes visible only on <see cref="MediaWrite.CommitAsync"/>.</summary>
    Task<MediaWrite> CreateAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Opens <paramref name="length"/> bytes from <paramref name="offset"/> (all of the rest when null); null when the object does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default);

    Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Removes the object for good; no error when it does not exist.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keys with a write started before <paramref name="startedBefore"/> and never committed nor
    /// cleaned up — its writer crashed, or the store was unreachable when the write was abandoned.
    /// None for stores whose leftovers go at start (files).
    /// </summary>
    Task<IReadOnlyList<string>> UnfinishedWritesAsync(DateTimeOffset startedBefore, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>Removes the key's unfinished writes; a committed object under the key stays.</summary>
    Task AbortUnfinishedAsync(string key, CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>
    /// A URL from which a client may read the object itself for a while, without the vault relaying
    /// the bytes: when the store can hand one out and the operator turned this on; otherwise null.
    /// </summary>
    Task<DirectRead?> DirectReadUrlAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult<DirectRead?>(null);

    /// <summary>At start: checks that the store can be used, with an error that says what to fix when not.</summary>
    Task PrepareAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}

/// <summary>An object being written. Disposed without a commit, it leaves nothing behind.</summary>
public abstract class MediaWrite : IAsyncDisposable
{
    public abstract Stream Stream { get; }

    public abstract Task CommitAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}

/// <summary>A link that reads an object directly from the store, and when it stops working.</summary>
public sealed record DirectRead(Uri Url, DateTimeOffset Expires);
