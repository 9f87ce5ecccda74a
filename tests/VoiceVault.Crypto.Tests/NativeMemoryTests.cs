using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

[CollectionDefinition(nameof(NativeMemoryTests), DisableParallelization = true)]
public sealed class NativeMemoryCollection;

/// <summary>
/// OpenSSL cipher contexts live in native memory (about 1.2 KB each, key schedule included): each
/// must be freed — and cleansed, which EVP_CIPHER_CTX_free does — when its engine or stream is
/// disposed, not whenever a finalizer happens to run. Measured with glibc's count of bytes in use,
/// with garbage collection held off so that no finalizer can free what Dispose forgot. Runs alone:
/// the count is the whole process's.
/// </summary>
[Collection(nameof(NativeMemoryTests))]
public sealed class NativeMemoryTests
{
    private const int Rounds = 5000;        // ~6 MB of contexts if none were freed
    private const long Allowed = 1 << 20;   // what else the process may allocate meanwhile

    private static readonly byte[] Iv = RandomNumberGenerator.GetBytes(RecordingFormat.IvSize);

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo();

    private static long NativeBytesInUse() => (long)(MallInfo().Uordblks + MallInfo().Hblkhd);

    private static long NativeGrowth(Action round, int rounds = Rounds)
    {
        for (int i = 0; i < 50; i++)
        {
            round(); // warm-up: OpenSSL's one-time tables, JIT
        }
        // The runtime allocates native memory of its own now and then (the JIT compiling hot code
        // in the background): the least growth of three measurements is what the rounds left.
        long least = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            // Enough for every round's managed allocations (a decryption allocates 64 KiB buffers).
            Assert.True(GC.TryStartNoGCRegion(600L << 20), "could not hold off garbage collection");
            try
            {
                long before = NativeBytesInUse();
                for (int i = 0; i < rounds; i++)
                {
                    round();
                }
                least = Math.Min(least, NativeBytesInUse() - before);
            }
            finally
            {
                if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
                {
                    GC.EndNoGCRegion();
                }
            }
        }
        return least;
    }

    [Fact]
    public void The_measurement_sees_contexts_that_are_not_freed()
    {
        // The check itself can fail: engines kept undisposed show up as ~1 KB each.
        using var cek = ContentKey.Generate();
        var kept = new List<GcmEngine>();
        long growth = NativeGrowth(() => kept.Add(new OpenSslGcm(true, cek.Bytes, Iv)), rounds: Rounds);
        Assert.True(growth > Rounds * 500L, $"{Rounds} live OpenSSL contexts grew native memory by only {growth} bytes");
        kept.ForEach(e => e.Dispose());
    }

    [Fact]
    public void Disposing_an_OpenSSL_engine_frees_its_context()
    {
        using var cek = ContentKey.Generate();
        long growth = NativeGrowth(() => new OpenSslGcm(true, cek.Bytes, Iv).Dispose());
        Assert.True(growth < Allowed, $"{Rounds} disposed OpenSSL engines left {growth} bytes of native memory in use");
    }

    [Fact]
    public void Disposing_the_push_encryptor_frees_its_engine()
    {
        using var cek = ContentKey.Generate();
        long growth = NativeGrowth(() =>
        {
            using var encryptor = new RecordingEncryptor(Stream.Null, cek, Iv);
            encryptor.Write([1, 2, 3]);
        });
        Assert.True(growth < Allowed, $"{Rounds} disposed encryptors left {growth} bytes of native memory in use");
    }

    [Fact]
    public void Decrypting_on_the_calling_thread_and_asynchronously_frees_the_engine()
    {
        using var cek = ContentKey.Generate();
        var encrypted = TestData.Encrypt([1, 2, 3, 4], cek, Iv);
        long growth = NativeGrowth(() =>
        {
            RecordingDecryptor.DecryptOnCallingThread(new MemoryStream(encrypted), Stream.Null, cek, Iv);
            RecordingDecryptor.DecryptAsync(new MemoryStream(encrypted), Stream.Null, cek, Iv).GetAwaiter().GetResult();
        }, rounds: 2000);
        Assert.True(growth < Allowed, $"4000 decryptions left {growth} bytes of native memory in use");
    }
}
