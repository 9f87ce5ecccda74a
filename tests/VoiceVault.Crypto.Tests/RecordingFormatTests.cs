using System.Security.Cryptography;

namespace VoiceVault.Crypto.Tests;

/// <summary>The MUSTs of docs/format.md for the content encryption, under both engines.</summary>
public sealed class RecordingFormatTests
{
    public static TheoryData<string, int> SizesUnderBothEngines()
    {
        var data = new TheoryData<string, int>();
        int chunk = ChunkPipeline.ChunkSize;
        foreach (var kind in new[] { "openssl", "managed" })
        {
            foreach (var size in new[] { 0, 1, 15, 16, 17, chunk - 1, chunk, chunk + 1, 2 * chunk, 2 * chunk + 17, 3 * chunk + 5 })
            {
                data.Add(kind, size);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SizesUnderBothEngines))]
    public void Stored_object_is_ciphertext_then_tag_of_one_AES_GCM_over_the_whole_file(string engine, int size)
    {
        using var _ = new EngineScope(engine);
        var plaintext = TestData.Random(size);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var stored = TestData.Encrypt(plaintext, cek, iv);

        Assert.Equal(size + RecordingFormat.TagSize, stored.Length);
        var expected = new byte[size];
        var tag = new byte[16];
        using (var aes = new AesGcm(cek.Bytes, 16))
        {
            aes.Encrypt(iv, plaintext, expected, tag);
        }
        Assert.Equal(expected.Concat(tag).ToArray(), stored);
        Assert.Equal(plaintext, TestData.Decrypt(stored, cek, iv));
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public void Unseekable_sources_with_ragged_reads_give_the_same_bytes(string engine)
    {
        using var _ = new EngineScope(engine);
        var plaintext = TestData.Random(3 * ChunkPipeline.ChunkSize + 12_345);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var stored = TestData.Encrypt(plaintext, cek, iv);

        using var encrypted = new MemoryStream();
        RecordingEncryptor.Encrypt(new TrickleStream(new MemoryStream(plaintext), 1), encrypted, cek, iv);
        Assert.Equal(stored, encrypted.ToArray());

        using var decrypted = new MemoryStream();
        RecordingDecryptor.Decrypt(new TrickleStream(new MemoryStream(stored), 2), decrypted, cek, iv);
        Assert.Equal(plaintext, decrypted.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestData.DecryptForms), MemberType = typeof(TestData))]
    public async Task Every_decryption_form_gives_the_plaintext_at_every_size_and_read_pattern(string form)
    {
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        // Around the tag size, the 64 KiB rounds and the 256 KiB pipeline chunks.
        foreach (int size in new[] { 0, 1, 15, 16, 17, 65_535, 65_536, 65_537, 65_536 + 16, 262_144 - 8, 262_144 + 17, 700_001 })
        {
            var plaintext = TestData.Random(size);
            var stored = TestData.Encrypt(plaintext, cek, iv);
            foreach (var source in new Stream[] { new MemoryStream(stored), new TrickleStream(new MemoryStream(stored), size) })
            {
                using var decrypted = new MemoryStream();
                Assert.Equal(size, await TestData.DecryptAsync(form, source, decrypted, cek, iv));
                Assert.Equal(plaintext, decrypted.ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(EngineScope.Both), MemberType = typeof(EngineScope))]
    public async Task The_push_encryptor_matches_the_one_shot_pipeline(string engine)
    {
        using var _ = new EngineScope(engine);
        var plaintext = TestData.Random(1_777_777);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var expected = TestData.Encrypt(plaintext, cek, iv);

        using var sink = new MemoryStream();
        await using (var encryptor = new RecordingEncryptor(sink, cek, iv, leaveOpen: true))
        {
            var random = new Random(3);
            for (int offset = 0; offset < plaintext.Length;)
            {
                int n = Math.Min(random.Next(1, 400_000), plaintext.Length - offset);
                if (n % 2 == 0)
                {
                    encryptor.Write(plaintext, offset, n);
                }
                else
                {
                    await encryptor.WriteAsync(plaintext.AsMemory(offset, n));
                }
                offset += n;
            }
            Assert.Equal(plaintext.Length, encryptor.PlaintextLength);
            await encryptor.CompleteAsync();
            Assert.True(encryptor.IsCompleted);
            Assert.Throws<InvalidOperationException>(() => encryptor.Write([1]));
        }
        Assert.Equal(expected, sink.ToArray());
    }

    [Fact]
    public void An_encryptor_disposed_without_completing_leaves_no_tag()
    {
        var plaintext = TestData.Random(5000);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        using var sink = new MemoryStream();
        using (var encryptor = new RecordingEncryptor(sink, cek, iv, leaveOpen: true))
        {
            encryptor.Write(plaintext);
            Assert.Equal(0, sink.Length); // gathered for one larger write, not yet written
            encryptor.Flush();
        }
        // No tag: at most the ciphertext (an engine may still hold back a partial block).
        Assert.InRange(sink.Length, plaintext.Length - GcmEngine.MaxLag, plaintext.Length);
        Assert.Throws<AuthenticationFailedException>(() => RecordingDecryptor.Verify(new MemoryStream(sink.ToArray()), cek, iv));
    }

    [Fact]
    public void Verify_checks_the_tag_without_releasing_plaintext()
    {
        var plaintext = TestData.Random(100_000);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var stored = TestData.Encrypt(plaintext, cek, iv);
        Assert.Equal(plaintext.Length, RecordingDecryptor.Verify(new MemoryStream(stored), cek, iv));
        stored[^1] ^= 1;
        Assert.Throws<AuthenticationFailedException>(() => RecordingDecryptor.Verify(new MemoryStream(stored), cek, iv));
    }

    [Fact]
    public void Every_content_key_and_iv_is_fresh()
    {
        var keys = new HashSet<string>();
        var ivs = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            using var cek = ContentKey.Generate();
            Assert.True(keys.Add(Convert.ToHexString(cek.Bytes)));
            Assert.True(ivs.Add(Convert.ToHexString(RecordingFormat.NewIv())));
        }
        Assert.Equal(12, RecordingFormat.NewIv().Length);
    }

    [Fact]
    public void A_disposed_content_key_is_zeroed_and_unusable()
    {
        var cek = ContentKey.Generate();
        var field = typeof(ContentKey).GetField("_key", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var raw = (byte[])field.GetValue(cek)!;
        Assert.Contains(raw, b => b != 0);
        cek.Dispose();
        Assert.All(raw, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => cek.Bytes.Length);
    }

    [Fact]
    public void Objects_shorter_than_a_tag_are_truncation_failures()
    {
        using var cek = ContentKey.Generate();
        var e = Assert.Throws<AuthenticationFailedException>(() => RecordingDecryptor.Verify(new MemoryStream(new byte[15]), cek, RecordingFormat.NewIv()));
        Assert.Contains("15 bytes", e.Message, StringComparison.Ordinal);
        Assert.Throws<AuthenticationFailedException>(() => RecordingFormat.PlaintextLength(3));
        Assert.Equal(0, RecordingFormat.PlaintextLength(16));
    }

    [Fact]
    public void A_failing_destination_is_reported_and_stops_the_work()
    {
        var plaintext = TestData.Random(6 * ChunkPipeline.ChunkSize);
        using var cek = ContentKey.Generate();
        var iv = RecordingFormat.NewIv();
        var source = new TrickleStream(new MemoryStream(plaintext), 9);
        var e = Assert.Throws<IOException>(() => RecordingEncryptor.Encrypt(source, new FailingStream(), cek, iv));
        Assert.Contains("disk full", e.Message, StringComparison.Ordinal);
    }

    private sealed class FailingStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("disk full");
    }
}
