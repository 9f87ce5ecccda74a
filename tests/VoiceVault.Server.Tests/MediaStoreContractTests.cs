using VoiceVault.Server.Core;
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

    /// <summary>An object that the store must write in several pieces (S3: several parts of a multipart upload).</summary>
    protected virtual int LargeObjectSize => 3_000_007;

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
    public async Task A_large_object_written_in_small_pieces_reads_back_whole_and_by_range()
    {
        var bytes = Bytes(LargeObjectSize);
        await using (var write = await Store.CreateAsync("AC1/RE5"))
        {
            for (int offset = 0; offset < bytes.Length; offset += 65_536)
            {
                await write.Stream.WriteAsync(bytes.AsMemory(offset, Math.Min(65_536, bytes.Length - offset)));
            }
            await write.CommitAsync();
        }
        Assert.Equal(bytes, await ReadAsync(Store, "AC1/RE5"));
        Assert.Equal(bytes.Length, await Store.GetLengthAsync("AC1/RE5"));
        int middle = bytes.Length / 2;
        Assert.Equal(bytes[(middle - 10)..(middle + 10)], await ReadAsync(Store, "AC1/RE5", middle - 10, 20));
        Assert.Equal(bytes[^1..], await ReadAsync(Store, "AC1/RE5", bytes.Length - 1));
        Assert.Empty((await ReadAsync(Store, "AC1/RE5", 5, 0))!);
        Assert.Equal(["AC1/RE5"], await EverythingAsync());
    }

    [Fact]
    public async Task A_large_object_not_committed_leaves_nothing_behind()
    {
        var bytes = Bytes(LargeObjectSize);
        await using (var write = await Store.CreateAsync("AC1/RE6"))
        {
            await write.Stream.WriteAsync(bytes);
        }
        Assert.Null(await Store.GetLengthAsync("AC1/RE6"));
        Assert.Empty(await EverythingAsync());
    }

    [Fact]
    public async Task Deleting_a_key_removes_what_a_writer_that_died_left_of_it()
    {
        // A writer that never committed nor cleaned up (its process was killed): the instance that
        // takes its recordings over deletes their keys, which must take the pieces too.
        var abandoned = await Store.CreateAsync("AC1/RE7");
        await abandoned.Stream.WriteAsync(Bytes(LargeObjectSize));
        await using (var other = await Store.CreateAsync("AC1/RE70"))
        {
            await other.Stream.WriteAsync(Bytes(10));
            await other.CommitAsync();
        }
        Assert.Contains(await EverythingAsync(), name => name != "AC1/RE70");
        await Store.DeleteAsync("AC1/RE7");
        Assert.Equal(["AC1/RE70"], await EverythingAsync());
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

/// <summary>The contract on a real S3 server (Ceph RGW from scripts/s3.sh), with 5 MiB parts so that large objects are multipart uploads.</summary>
public sealed class S3MediaStoreContractTests : MediaStoreContractTests
{
    private readonly string _key = "s3-contract-" + Guid.NewGuid().ToString("N");

    protected override int LargeObjectSize => 11 * 1024 * 1024 + 3;   // three parts

    protected override async Task<IMediaStore> CreateAsync()
    {
        var options = TestMedia.OptionsFor(_key, partSizeMiB: 5);
        var store = new VoiceVault.Server.Storage.S3.S3MediaStore(options);
        await store.PrepareAsync();
        return store;
    }

    protected override async Task<IReadOnlyList<string>> EverythingAsync()
    {
        using var s3 = VoiceVault.Server.Storage.S3.S3MediaStore.CreateClient(TestMedia.OptionsFor(_key));
        return (await TestMedia.EverythingInBucketAsync(s3, TestMedia.BucketOf(_key))).Select(o => o.Name).Order(StringComparer.Ordinal).ToList();
    }

    protected override Task CleanUpAsync() => TestMedia.DropAsync(_key, force: true);
}
