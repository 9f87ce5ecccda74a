using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

/// <summary>
/// The public surface's contract, edge by edge: arguments refused by name, lengths returned under
/// both engines (one of which holds back a partial block), progress reported to the end, the
/// push encryptor's write sizes, flushes and stream properties, and the refusals' wording.
/// </summary>
public sealed class ContractTests
{
    private static readonly byte[] Iv = new byte[12];

    public static TheoryData<string> NullArguments() =>
    [
        "encryptor-destination", "encryptor-cek", "encrypt-plaintext", "encrypt-destination", "encrypt-cek",
        "decrypt-encrypted", "decrypt-destination", "decrypt-cek", "verify-encrypted", "verify-cek",
        "calling-thread-encrypted", "calling-thread-destination", "calling-thread-cek",
        "async-encrypted", "async-destination", "async-cek", "wrap-key", "wrap-cek", "unwrap-key",
    ];

    [Theory]
    [MemberData(nameof(NullArguments))]
    public async Task A_missing_argument_is_refused_by_name(string which)
    {
        using var cek = ContentKey.Generate();
        var stream = new MemoryStream(TestData.Encrypt(new byte[100], cek, Iv));
        var sink = new MemoryStream();
        Func<Task> call = which switch
        {
            "encryptor-destination" => () => Task.FromResult(new RecordingEncryptor(null!, cek, Iv)),
            "encryptor-cek" => () => Task.FromResult(new RecordingEncryptor(sink, null!, Iv)),
            "encrypt-plaintext" => () => Task.FromResult(RecordingEncryptor.Encrypt(null!, sink, cek, Iv)),
            "encrypt-destination" => () => Task.FromResult(RecordingEncryptor.Encrypt(stream, null!, cek, Iv)),
            "encrypt-cek" => () => Task.FromResult(RecordingEncryptor.Encrypt(stream, sink, null!, Iv)),
            "decrypt-encrypted" => () => Task.FromResult(RecordingDecryptor.Decrypt(null!, sink, cek, Iv)),
            "decrypt-destination" => () => Task.FromResult(RecordingDecryptor.Decrypt(stream, null!, cek, Iv)),
            "decrypt-cek" => () => Task.FromResult(RecordingDecryptor.Decrypt(stream, sink, null!, Iv)),
            "verify-encrypted" => () => Task.FromResult(RecordingDecryptor.Verify(null!, cek, Iv)),
            "verify-cek" => () => Task.FromResult(RecordingDecryptor.Verify(stream, null!, Iv)),
            "calling-thread-encrypted" => () => Task.FromResult(RecordingDecryptor.DecryptOnCallingThread(null!, sink, cek, Iv)),
            "calling-thread-destination" => () => Task.FromResult(RecordingDecryptor.DecryptOnCallingThread(stream, null!, cek, Iv)),
            "calling-thread-cek" => () => Task.FromResult(RecordingDecryptor.DecryptOnCallingThread(stream, sink, null!, Iv)),
            "async-encrypted" => () => RecordingDecryptor.DecryptAsync(null!, sink, cek, Iv),
            "async-destination" => () => RecordingDecryptor.DecryptAsync(stream, null!, cek, Iv),
            "async-cek" => () => RecordingDecryptor.DecryptAsync(stream, sink, null!, Iv),
            "wrap-key" => () => Task.FromResult(KeyWrap.Wrap(null!, cek)),
            "wrap-cek" => () => Task.FromResult(KeyWrap.Wrap(TestData.Key, null!)),
            "unwrap-key" => () => Task.FromResult(KeyWrap.Unwrap(null!, new byte[256])),
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
        var e = await Assert.ThrowsAsync<ArgumentNullException>(call);
        var expected = which[(which.LastIndexOf('-') + 1)..] switch
        {
            "key" => which.StartsWith("wrap", StringComparison.Ordinal) ? "publicKey" : "privateKey",
            var name => name,
        };
        Assert.Equal(expected, e.ParamName);
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public void A_push_encryptor_buffer_under_4_KiB_is_refused()
    {
        using var cek = ContentKey.Generate();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RecordingEncryptor(new MemoryStream(), cek, Iv, bufferSize: 4095));
        Assert.Equal("bufferSize", e.ParamName);
        using var smallest = new RecordingEncryptor(new MemoryStream(), cek, Iv, bufferSize: 4096);
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public async Task Every_form_returns_the_plaintext_length_and_reports_progress_to_the_end(string engine)
    {
        using var _ = new EngineScope(engine);
        const int size = 3 * ChunkPipeline.ChunkSize + 100_003; // not a whole number of blocks or chunks
        var plaintext = TestData.Random(size);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var progress = new Recorder();
        var stored = new MemoryStream();
        Assert.Equal(size, RecordingEncryptor.Encrypt(new TrickleStream(new MemoryStream(plaintext), 1), stored, cek, iv, progress));
        Assert.Equal(size, progress.Values[^1]);
        Assert.Equal(progress.Values.Order(), progress.Values);
        Assert.True(progress.Values.Count >= 4, "progress is reported chunk by chunk");

        var bytes = stored.ToArray();
        var decrypted = new Recorder();
        Assert.Equal(size, RecordingDecryptor.Decrypt(new MemoryStream(bytes), new MemoryStream(), cek, iv, decrypted));
        Assert.Equal(bytes.Length, decrypted.Values[^1]);
        Assert.Equal(size, RecordingDecryptor.Verify(new MemoryStream(bytes), cek, iv));
        Assert.Equal(size, RecordingDecryptor.DecryptOnCallingThread(new MemoryStream(bytes), new MemoryStream(), cek, iv));
        Assert.Equal(size, await RecordingDecryptor.DecryptAsync(new MemoryStream(bytes), new MemoryStream(), cek, iv));
    }

    [Fact]
    public void The_one_shot_forms_flush_their_destination()
    {
        using var cek = ContentKey.Generate();
        var encrypted = new CountingStream();
        RecordingEncryptor.Encrypt(new MemoryStream(new byte[1000]), encrypted, cek, Iv);
        Assert.True(encrypted.Flushes > 0);
        var decrypted = new CountingStream();
        RecordingDecryptor.Decrypt(new MemoryStream(encrypted.ToArray()), decrypted, cek, Iv);
        Assert.True(decrypted.Flushes > 0);
    }

    [Theory]
    [InlineData("calling-thread")]
    [InlineData("async")]
    [InlineData("pipeline")]
    public async Task An_object_shorter_than_a_tag_is_a_truncation_in_every_form(string form)
    {
        using var cek = ContentKey.Generate();
        foreach (var length in new[] { 0, 1, 15 })
        {
            var e = await Assert.ThrowsAsync<AuthenticationFailedException>(() => TestData.DecryptAsync(form, new MemoryStream(new byte[length]), new MemoryStream(), cek, Iv));
            Assert.Contains($"is {length} bytes, shorter than its 16-byte GCM tag", e.Message, StringComparison.Ordinal);
        }
        // Exactly a tag is an empty recording, whose tag must still verify.
        var empty = TestData.Encrypt([], cek, Iv);
        Assert.Equal(16, empty.Length);
        Assert.Equal(0, await TestData.DecryptAsync(form, new MemoryStream(empty), new MemoryStream(), cek, Iv));
    }

    [Fact]
    public void The_push_encryptor_writes_once_less_than_a_sixteenth_of_its_buffer_is_left()
    {
        using var _ = new EngineScope("openssl"); // ciphertext out = plaintext in, so the room left is exact
        using var cek = ContentKey.Generate();
        var sink = new CountingStream();
        using var encryptor = new RecordingEncryptor(sink, cek, RecordingFormat.NewIv(), leaveOpen: true, bufferSize: 4096);
        encryptor.Write(new byte[4096 - 256]);  // exactly 4096/16 bytes of room left: keep gathering
        Assert.Empty(sink.Writes);
        encryptor.Write(new byte[1]);           // less than that left: one write of everything gathered
        Assert.Equal([4096 - 255], sink.Writes);
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public async Task The_push_encryptor_gathers_small_writes_into_large_ones_and_flushes_on_demand(string engine)
    {
        using var _ = new EngineScope(engine);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var plaintext = TestData.Random(50_000);
        var sink = new CountingStream();
        await using (var encryptor = new RecordingEncryptor(sink, cek, iv, leaveOpen: true, bufferSize: 4096))
        {
            Assert.False(encryptor.CanRead);
            Assert.False(encryptor.CanSeek);
            Assert.True(encryptor.CanWrite);
            Assert.Throws<NotSupportedException>(() => encryptor.Length);
            Assert.Throws<NotSupportedException>(() => encryptor.Read(new byte[1], 0, 1));
            for (int offset = 0; offset < 19_200; offset += 160)
            {
                await encryptor.WriteAsync(plaintext.AsMemory(offset, 160));
            }
            Assert.Equal(19_200, encryptor.Position); // 3200 bytes gathered since the last write
            // Every write but the gathering's last reached at least 4096 - 4096/16 bytes and at most the buffer.
            Assert.All(sink.Writes, n => Assert.InRange(n, 4096 - 256, 4096 + GcmEngine.MaxLag));
            long before = sink.Length;
            await encryptor.FlushAsync();
            Assert.True(sink.Length > before, "FlushAsync writes what is gathered");
            Assert.Equal(1, sink.Flushes);
            for (int offset = 19_200; offset < 40_000; offset += 160)
            {
                encryptor.Write(plaintext.AsSpan(offset, 160));
            }
            before = sink.Length;
            encryptor.Flush();
            Assert.True(sink.Length > before, "Flush writes what is gathered");
            Assert.Equal(2, sink.Flushes);
            encryptor.Flush(); // nothing gathered: nothing written, the destination still flushed
            Assert.Equal(3, sink.Flushes);
            encryptor.Write(plaintext, 40_000, 10_000);
            await encryptor.CompleteAsync();
            Assert.Equal(4, sink.Flushes);
            Assert.False(encryptor.CanWrite);
            var e = Assert.Throws<InvalidOperationException>(() => encryptor.Write([1]));
            Assert.Contains("tag has been written", e.Message, StringComparison.Ordinal);
        }
        Assert.Equal(TestData.Encrypt(plaintext, cek, iv), sink.ToArray());
    }

    [Fact]
    public void Unwrapping_with_the_wrong_key_says_which_key_is_needed()
    {
        using var cek = ContentKey.Generate();
        using var other = RSA.Create(2048);
        var e = Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(other, KeyWrap.Wrap(TestData.Key, cek)));
        Assert.Contains("does not unwrap the recording's content key", e.Message, StringComparison.Ordinal);
        Assert.Contains("voicevault inspect", e.Hint, StringComparison.Ordinal);
        using var larger = RSA.Create(3072);
        e = Assert.Throws<KeyMismatchException>(() => KeyWrap.Unwrap(larger, KeyWrap.Wrap(TestData.Key, cek)));
        Assert.Contains("2048-bit RSA) but this private key is 3072-bit", e.Message, StringComparison.Ordinal);
        Assert.Contains("public key SID is named in the encryption details", e.Hint, StringComparison.Ordinal);
    }

    private sealed class Recorder : IProgress<long>
    {
        public List<long> Values { get; } = [];

        public void Report(long value) => Values.Add(value);
    }

    private sealed class CountingStream : MemoryStream
    {
        public int Flushes { get; private set; }

        public List<int> Writes { get; } = [];

        public override void Flush()
        {
            Flushes++;
            base.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++; // MemoryStream's own FlushAsync would call Flush and count twice
            return Task.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(count);
            base.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.Length);
            base.Write(buffer.ToArray(), 0, buffer.Length); // not through Write(byte[]) above: counted once
            return ValueTask.CompletedTask;
        }
    }
}
