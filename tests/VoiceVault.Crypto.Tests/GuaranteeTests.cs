using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

/// <summary>
/// What the format code promises beyond "the bytes round-trip", each written so that breaking the
/// promise fails it: a write that fails part-way is reported (never a short output passed off as
/// whole), buffers that held plaintext or keys are wiped, cancellation stops every form of the
/// work, a failed OpenSSL call leaves OpenSSL's error queue clean, and a finished or disposed
/// encryptor refuses more work.
/// </summary>
public sealed class GuaranteeTests
{
    // Encryption and every decryption form; "small" is read inline by the pipeline (a seekable
    // source of at most two chunks), "large" goes through its writer thread.
    public static TheoryData<string, string> Operations()
    {
        var data = new TheoryData<string, string>();
        foreach (var operation in new[] { "encrypt", "pipeline", "calling-thread", "async" })
        {
            foreach (var size in new[] { "small", "large" })
            {
                data.Add(operation, size);
            }
        }
        return data;
    }

    private static int SizeOf(string size) => size == "small" ? 300_000 : 6 * ChunkPipeline.ChunkSize + 12_345;

    private static Stream Source(byte[] bytes, string size) => size == "small" ? new MemoryStream(bytes) : new TrickleStream(new MemoryStream(bytes), 5);

    private static async Task<long> RunAsync(string operation, Stream source, Stream destination, ContentKey cek, byte[] iv, CancellationToken cancellationToken = default) =>
        operation switch
        {
            "encrypt" => RecordingEncryptor.Encrypt(source, destination, cek, iv, cancellationToken: cancellationToken),
            "pipeline" => RecordingDecryptor.Decrypt(source, destination, cek, iv, cancellationToken: cancellationToken),
            "calling-thread" => RecordingDecryptor.DecryptOnCallingThread(source, destination, cek, iv, cancellationToken),
            "async" => await RecordingDecryptor.DecryptAsync(source, destination, cek, iv, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

    // The input of an operation: plaintext to encrypt, or a stored object to decrypt.
    private static byte[] InputFor(string operation, byte[] plaintext, ContentKey cek, byte[] iv) =>
        operation == "encrypt" ? plaintext : TestData.Encrypt(plaintext, cek, iv);

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task A_write_that_fails_part_way_is_reported_even_when_later_writes_succeed(string operation, string size)
    {
        var plaintext = TestData.Random(SizeOf(size));
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var input = InputFor(operation, plaintext, cek, iv);
        // One write in the middle fails (a full disk that frees up, a dropped network write); the
        // writes after it succeed, so only the failure itself can tell that bytes are missing.
        var destination = new OnceFailingStream(failAt: plaintext.Length / 2);
        var e = await Assert.ThrowsAsync<IOException>(() => RunAsync(operation, Source(input, size), destination, cek, iv));
        Assert.Contains("disk full", e.Message, StringComparison.Ordinal);
        Assert.True(destination.Failed);
    }

    [Theory]
    [InlineData("encrypt")]
    [InlineData("pipeline")]
    public async Task After_a_write_fails_the_pipeline_stops_reading_at_its_next_chunk(string operation)
    {
        // A 10 MB recording from a source that cannot seek: the threaded pipeline. The first write
        // fails; the reader must not go on to read and transform the rest of the input for nothing.
        var plaintext = TestData.Random(40 * ChunkPipeline.ChunkSize);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var memory = new MemoryStream(InputFor(operation, plaintext, cek, iv));
        var e = await Assert.ThrowsAsync<IOException>(() => RunAsync(operation, new TrickleStream(memory, 5), new OnceFailingStream(failAt: 1), cek, iv));
        Assert.Contains("disk full", e.Message, StringComparison.Ordinal);
        // At most the chunks already queued for the writer (8 slots) and the one in hand, with a margin.
        Assert.True(memory.Position <= 12 * ChunkPipeline.ChunkSize, $"{memory.Position} of {memory.Length} bytes were read after the write failed");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Cancellation_stops_the_work_before_the_end(string operation, string size)
    {
        var plaintext = TestData.Random(SizeOf(size));
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var input = InputFor(operation, plaintext, cek, iv);
        using var cancel = new CancellationTokenSource();
        // Cancelled once the first 64 KiB are read: the work must notice and stop.
        var source = new CancellingStream(Source(input, size), cancel, after: 64 * 1024);
        var output = new MemoryStream();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(operation, source, output, cek, iv, cancel.Token));
        Assert.True(output.Length < plaintext.Length, $"{output.Length} of {plaintext.Length} bytes were produced after cancellation");
        Assert.True(source.ReadAfterCancel < input.Length - 64 * 1024, "the source was read to its end after cancellation");
    }

    [Fact]
    public async Task Work_cancelled_before_it_starts_reads_nothing()
    {
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var stored = TestData.Encrypt(TestData.Random(10_000), cek, iv);
        foreach (var operation in new[] { "encrypt", "pipeline", "calling-thread", "async" })
        {
            var source = new MemoryStream(stored);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(operation, source, new MemoryStream(), cek, iv, new CancellationToken(true)));
            Assert.Equal(0, source.Position);
        }
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Buffers_that_held_plaintext_are_wiped_when_the_work_ends(string operation, string size)
    {
        var plaintext = TestData.Random(SizeOf(size));
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var input = InputFor(operation, plaintext, cek, iv);
        var wiped = new List<(string What, bool Zero)>();
        Wipe.Observer.Value = (what, buffer) => wiped.Add((what, buffer.All(b => b == 0)));
        try
        {
            await RunAsync(operation, Source(input, size), new MemoryStream(), cek, iv);
        }
        finally
        {
            Wipe.Observer.Value = null;
        }
        var expected = operation is "encrypt" or "pipeline" ? "pipeline slot" : "decryption buffer";
        Assert.Contains(wiped, w => w.What == expected);
        Assert.All(wiped, w => Assert.True(w.Zero, $"a {w.What} was not zero after its wipe"));
        // The threaded pipeline has eight slots; every one of them is wiped, not just the last used.
        if (expected == "pipeline slot")
        {
            Assert.Equal(size == "small" ? 1 : 8, wiped.Count(w => w.What == expected));
        }
    }

    [Fact]
    public async Task A_failed_decryption_wipes_its_buffers_too()
    {
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var stored = TestData.Encrypt(TestData.Random(200_000), cek, iv);
        stored[^1] ^= 1;
        foreach (var form in new[] { "pipeline", "calling-thread", "async" })
        {
            var wiped = new List<bool>();
            Wipe.Observer.Value = (_, buffer) => wiped.Add(buffer.All(b => b == 0));
            try
            {
                await Assert.ThrowsAsync<AuthenticationFailedException>(() => RunAsync(form, new MemoryStream(stored), new MemoryStream(), cek, iv));
            }
            finally
            {
                Wipe.Observer.Value = null;
            }
            Assert.NotEmpty(wiped);
            Assert.All(wiped, Assert.True);
        }
    }

    [Fact]
    public void The_push_encryptor_and_key_unwrapping_wipe_their_buffers()
    {
        var wiped = new List<(string What, bool Zero)>();
        Wipe.Observer.Value = (what, buffer) => wiped.Add((what, buffer.All(b => b == 0)));
        try
        {
            using var cek = ContentKey.Generate();
            using (var encryptor = new RecordingEncryptor(new MemoryStream(), cek, RecordingFormat.NewIv()))
            {
                encryptor.Write(TestData.Random(10_000));
                encryptor.Complete();
            }
            using var unwrapped = KeyWrap.Unwrap(TestData.Key, KeyWrap.Wrap(TestData.Key, cek));
        }
        finally
        {
            Wipe.Observer.Value = null;
        }
        Assert.Equal(["encryption buffer", "unwrapped key"], wiped.Select(w => w.What));
        Assert.All(wiped, w => Assert.True(w.Zero, w.What));
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public void Complete_writes_the_tag_and_the_object_decrypts(string engine)
    {
        using var _ = new EngineScope(engine);
        var plaintext = TestData.Random(70_001);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var sink = new FlushCountingStream();
        using (var encryptor = new RecordingEncryptor(sink, cek, iv, leaveOpen: true, bufferSize: 4096))
        {
            foreach (var piece in plaintext.Chunk(160)) // 20 ms frames, as a live call writes them
            {
                encryptor.Write(piece);
            }
            encryptor.Complete();
            Assert.True(encryptor.IsCompleted);
            Assert.False(encryptor.CanWrite);
        }
        Assert.True(sink.Flushes > 0, "Complete flushes the destination");
        Assert.Equal(TestData.Encrypt(plaintext, cek, iv), sink.ToArray());
        Assert.Equal(plaintext, TestData.Decrypt(sink.ToArray(), cek, iv));
    }

    [Fact]
    public async Task A_completed_or_disposed_encryptor_refuses_more_work()
    {
        using var cek = ContentKey.Generate();
        var completed = new RecordingEncryptor(new MemoryStream(), cek, RecordingFormat.NewIv());
        completed.Write([1, 2, 3]);
        completed.Complete();
        Assert.Throws<InvalidOperationException>(() => completed.Write([4]));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await completed.WriteAsync(new byte[] { 4 }));
        Assert.Throws<InvalidOperationException>(() => completed.Complete());
        completed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => completed.Write([5]));
        Assert.Throws<ObjectDisposedException>(() => completed.Complete());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => completed.CompleteAsync());
        Assert.False(completed.CanWrite);
        completed.Dispose(); // twice is harmless

        var destination = new MemoryStream();
        using (new RecordingEncryptor(destination, cek, RecordingFormat.NewIv()))
        {
        }
        Assert.Throws<ObjectDisposedException>(() => destination.WriteByte(1)); // not leaveOpen: the destination is disposed with it
        var kept = new MemoryStream();
        using (new RecordingEncryptor(kept, cek, RecordingFormat.NewIv(), leaveOpen: true))
        {
        }
        kept.WriteByte(1);
    }

    [Fact]
    public void A_failed_OpenSSL_decryption_leaves_the_threads_error_queue_empty()
    {
        // A failure elsewhere on this thread left an error on OpenSSL's per-thread queue…
        Assert.Equal(nint.Zero, OpenSsl.BIO_new_file("/nonexistent/voicevault", "r"));
        Assert.NotEqual(0UL, OpenSsl.ERR_peek_error());
        // …and a tag mismatch in our engine must clear it, or .NET's shim (which reads the queue)
        // would report it from the next unrelated operation on this thread.
        using var engine = GcmEngine.Create(GcmEngineKind.OpenSsl, encrypt: false, new byte[32], new byte[12]);
        var output = new byte[GcmEngine.MaxLag + 10];
        engine.Update(new byte[10], output);
        Assert.Throws<AuthenticationFailedException>(() => engine.FinishDecrypt(new byte[16], output));
        Assert.Equal(0UL, OpenSsl.ERR_peek_error());
        using var aes = new AesGcm(new byte[32], 16);
        aes.Encrypt(new byte[12], new byte[5], new byte[5], new byte[16]);
    }

    private static class OpenSsl
    {
        [DllImport("libcrypto.so.3")]
        public static extern nint BIO_new_file(string filename, string mode);

        [DllImport("libcrypto.so.3")]
        public static extern ulong ERR_peek_error();
    }

    /// <summary>Fails the one write that reaches <c>failAt</c> bytes; accepts every other.</summary>
    private sealed class OnceFailingStream(long failAt) : WriteOnlyTestStream
    {
        private long _length;

        public bool Failed { get; private set; }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (!Failed && _length + buffer.Length >= failAt)
            {
                Failed = true;
                throw new IOException("disk full");
            }
            _length += buffer.Length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
    }

    /// <summary>Cancels <c>cancel</c> once <c>after</c> bytes have been read, and counts what is read after that.</summary>
    private sealed class CancellingStream(Stream inner, CancellationTokenSource cancel, long after) : ReadOnlyTestStream
    {
        private long _read;

        public long ReadAfterCancel { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            if (cancel.IsCancellationRequested)
            {
                ReadAfterCancel += n;
            }
            _read += n;
            if (_read >= after)
            {
                cancel.Cancel();
            }
            return n;
        }
    }

    private sealed class FlushCountingStream : MemoryStream
    {
        public int Flushes { get; private set; }

        public override void Flush()
        {
            Flushes++;
            base.Flush();
        }
    }
}

/// <summary>The OpenSSL engine's failure reporting and its refusals, which valid input never reaches.</summary>
public sealed class OpenSslFailureTests
{
    [DllImport("libcrypto.so.3")]
    private static extern nint BIO_new_file(string filename, string mode);

    [DllImport("libcrypto.so.3")]
    private static extern ulong ERR_peek_error();

    [Fact]
    public void A_failed_call_is_reported_with_its_name_and_OpenSSLs_reasons_and_the_queue_is_left_empty()
    {
        OpenSslGcm.Native.Check(1, "EVP_Fine"); // success: nothing thrown, nothing read
        Assert.Equal(nint.Zero, BIO_new_file("/nonexistent/voicevault", "r"));
        Assert.NotEqual(0UL, ERR_peek_error());
        var e = Assert.Throws<CryptographicException>(() => OpenSslGcm.Native.Check(0, "EVP_Example"));
        Assert.StartsWith("OpenSSL EVP_Example failed: error:", e.Message, StringComparison.Ordinal);
        Assert.Contains("; error:", e.Message, StringComparison.Ordinal); // both queued errors, in order, separated
        Assert.DoesNotContain("\0", e.Message, StringComparison.Ordinal);
        Assert.Equal(0UL, ERR_peek_error());
        // Nothing queued: the name alone.
        Assert.Equal("OpenSSL EVP_Other failed.", OpenSslGcm.Native.Failure("EVP_Other").Message);
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public void An_engine_finishes_only_in_its_own_direction(string engine)
    {
        var kind = EngineScope.Parse(engine);
        using var encrypting = GcmEngine.Create(kind, encrypt: true, new byte[32], new byte[12]);
        Assert.Equal("This engine encrypts.", Assert.Throws<InvalidOperationException>(() => encrypting.FinishDecrypt(new byte[16], new byte[16])).Message);
        using var decrypting = GcmEngine.Create(kind, encrypt: false, new byte[32], new byte[12]);
        Assert.Equal("This engine decrypts.", Assert.Throws<InvalidOperationException>(() => decrypting.FinishEncrypt(new byte[16], new byte[16])).Message);
    }
}
