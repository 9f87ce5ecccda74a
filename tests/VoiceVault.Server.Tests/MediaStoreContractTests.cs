using VoiceVault.Server.Storage;
using VoiceVault.Server.Storage.Files;

namespace VoiceVault.Server.Tests;

/// <summary>
/// What every media store must do, whatever it keeps objects in: a committed write reads back
/// whole and by range, an uncommitted one leaves nothing (no object, no temporary piece), a delete
/// removes for good. Each store's subclass says how to look for leftovers.
/// </summary>
public abstract class MediaStoreContractTests : IAsyncLifetime
{
    protected IMediaStore Store { get; private set; } = null!;

    protected abstract Task<IMediaStore> CreateAsync();

    /// <summary>Everything the store holds, temporary pieces included (names only).</summary>
    protected abstract Task<IReadOnlyList<string>> EverythingAsync();

    protected abstract Task CleanUpAsync();

    public async Task InitializeAsync() => Store = await CreateAsync();

    public Task DisposeAsync() => CleanUpAsync();

    private static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]?> ReadAsync(IMediaStore store, string key, long offset = 0, long? length = null)
    {
        await using var stream = await store.OpenReadAsync(key, offset, length);
        if (stream is null)
        {
            return null;
        }
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_committed_object_reads_back_whole_and_by_range()
    {
        var bytes = Bytes(700_001);
        await using (var write = await Store.CreateAsync("AC1/RE1"))
        {
            await write.Stream.WriteAsync(bytes);
            await write.CommitAsync();
        }
        Assert.Equal(bytes, await ReadAsync(Store, "AC1/RE1"));
        Assert.Equal(bytes.Length, await Store.GetLengthAsync("AC1/RE1"));
        Assert.Equal(bytes[1000..1100], await ReadAsync(Store, "AC1/RE1", 1000, 100));
        Assert.Equal(bytes[699_990..], await ReadAsync(Store, "AC1/RE1", 699_990));
        Assert.Equal(["AC1/RE1"], await EverythingAsync());
    }

    [Fact]
    public async Task An_object_not_committed_leaves_nothing_behind()
    {
        await using (var write = await Store.CreateAsync("AC1/RE2"))
        {
            await write.Stream.WriteAsync(Bytes(300_000));
            // disposed without a commit: the upload or the encryption failed
        }
        Assert.Null(await ReadAsync(Store, "AC1/RE2"));
        Assert.Null(await Store.GetLengthAsync("AC1/RE2"));
        Assert.Empty(await EverythingAsync());
    }

    [Fact]
    public async Task A_delete_removes_the_object_for_good_and_a_missing_one_is_no_error()
    {
        await using (var write = await Store.CreateAsync("AC1/RE3"))
        {
            await write.Stream.WriteAsync(Bytes(10));
            await write.CommitAsync();
        }
        await Store.DeleteAsync("AC1/RE3");
        await Store.DeleteAsync("AC1/RE3");
        await Store.DeleteAsync("AC1/RE-never");
        Assert.Null(await ReadAsync(Store, "AC1/RE3"));
        Assert.Empty(await EverythingAsync());
    }

    [Fact]
    public async Task Nothing_is_visible_under_the_key_until_the_commit()
    {
        await using var write = await Store.CreateAsync("AC1/RE4");
        await write.Stream.WriteAsync(Bytes(100_000));
        Assert.Null(await ReadAsync(Store, "AC1/RE4"));
        await write.CommitAsync();
        Assert.Equal(100_000, (await ReadAsync(Store, "AC1/RE4"))!.Length);
    }
}

public sealed class FileMediaStoreContractTests : MediaStoreContractTests
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("vv-media-").FullName;

    protected override Task<IMediaStore> CreateAsync() => Task.FromResult<IMediaStore>(new FileMediaStore(new VaultOptions { DataDir = _dataDir }));

    protected override Task<IReadOnlyList<string>> EverythingAsync()
    {
        var root = Path.Combine(_dataDir, "media");
        return Task.FromResult<IReadOnlyList<string>>(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList());
    }

    protected override Task CleanUpAsync()
    {
        Directory.Delete(_dataDir, recursive: true);
        return Task.CompletedTask;
    }
}
