using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

/// <summary>
/// Recordings over 2 GiB: more than one-shot AesGcm (a span of at most int.MaxValue bytes) can
/// take. Streamed through files on disk, in constant memory.
/// </summary>
public sealed class LargeFileTests
{
    private const long Size = (2L << 30) + 4097;

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public void Files_over_2GiB_round_trip_in_constant_memory(string engine)
    {
        using var _ = new EngineScope(engine);
        var path = Path.Combine(Path.GetTempPath(), $"voicevault-large-{Guid.NewGuid():N}.enc");
        try
        {
            using var cek = ContentKey.Generate();
            var iv = RecordingFormat.NewIv();
            var source = new PatternStream(Size);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
            {
                Assert.Equal(Size, RecordingEncryptor.Encrypt(source, file, cek, iv));
            }
            Assert.Equal(Size + 16, new FileInfo(path).Length);

            using var hash = new HashingSink();
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0))
            {
                Assert.Equal(Size, RecordingDecryptor.Decrypt(file, hash, cek, iv));
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Assert.Equal(new PatternStream(Size).Sha256(), hash.Digest());
            // Constant memory: a few 1 MiB slots per pass, not anything proportional to 2 GiB.
            Assert.True(allocated < 64L << 20, $"allocated {allocated / (1 << 20)} MiB for a {Size >> 20} MiB file");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A deterministic, non-repeating byte sequence of a given length, generated on the fly.</summary>
    private sealed class PatternStream(long length) : ReadOnlyTestStream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - _position);
            var span = buffer.AsSpan(offset, n);
            for (int i = 0; i < n; i++)
            {
                long p = _position + i;
                span[i] = (byte)((p * 2654435761L) >> 13 ^ p >> 20);
            }
            _position += n;
            return n;
        }

        public byte[] Sha256()
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            int n;
            while ((n = Read(buffer, 0, buffer.Length)) > 0)
            {
                sha.AppendData(buffer, 0, n);
            }
            return sha.GetHashAndReset();
        }

        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
    }

    private sealed class HashingSink : WriteOnlyTestStream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Digest() => _sha.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => _sha.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _sha.AppendData(buffer);

        protected override void Dispose(bool disposing)
        {
            _sha.Dispose();
            base.Dispose(disposing);
        }
    }
}
