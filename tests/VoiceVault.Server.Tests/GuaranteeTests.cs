using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Twilio.Rest.Api.V2010;
using Twilio.Rest.Api.V2010.Account;
using VoiceVault.Crypto;
using VoiceVault.Server.Core;
using VoiceVault.Server.Storage.Files;

namespace VoiceVault.Server.Tests;

/// <summary>
/// The vault's guarantees, each tested by what would happen without it: a sealed key that is not
/// the key, and a media write that fails part-way leaving no byte behind (faults injected through
/// the media store, no root or special file system needed).
/// </summary>
public sealed class GuaranteeTests
{
    [Fact]
    public async Task A_server_managed_recordings_stored_key_value_does_not_decrypt_its_media()
    {
        await using var vault = await VaultServer.StartAsync();
        var wav = Audio.Wav(2);
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), wav); // encryption off: the server's key
        Assert.Equal(HttpStatusCode.Created, status);
        var recording = (await vault.Services.GetRequiredService<IRecordingStore>().FindAsync(body.GetProperty("sid").GetString()!))!;
        Assert.Equal(MediaKeyMode.Server, recording.KeyMode);
        byte[] ciphertext;
        await using (var media = (await vault.Services.GetRequiredService<IMediaStore>().OpenReadAsync(recording.MediaKey!))!)
        {
            var copy = new MemoryStream();
            await media.CopyToAsync(copy);
            ciphertext = copy.ToArray();
        }
        Assert.Equal(wav.Length + RecordingFormat.TagSize, ciphertext.Length);
        // Whatever 32 bytes of the stored value are taken as the AES key, the media does not open:
        // what is stored is the key sealed under the master key, not the key.
        var stored = recording.ServerCekSealed!;
        Assert.True(stored.Length > 32);
        for (int offset = 0; offset + 32 <= stored.Length; offset++)
        {
            using var candidate = ContentKey.FromBytes(stored.AsSpan(offset, 32));
            Assert.Throws<AuthenticationFailedException>(() => RecordingDecryptor.Verify(new MemoryStream(ciphertext), candidate, recording.Iv!));
        }
        // The vault itself opens it, for an authorised download.
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        Assert.Equal(wav, await http.GetByteArrayAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{recording.Sid}.wav"));
    }

    [Fact]
    public async Task Auth_tokens_API_key_secrets_and_Twilio_link_tokens_are_stored_sealed_not_as_themselves()
    {
        await using var vault = await VaultServer.StartAsync();
        var sub = await AccountResource.CreateAsync(friendlyName: "tenant", client: vault.Twilio());
        var key = await NewKeyResource.CreateAsync(pathAccountSid: sub.Sid, friendlyName: "k", client: vault.Twilio(sub.Sid, sub.AuthToken));
        string twilioToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        string twilioSecondary = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using (var http = vault.Http(sub.Sid, sub.AuthToken))
        {
            var link = await http.PostAsync($"/v1/Accounts/{sub.Sid}/TwilioLink", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["TwilioAccountSid"] = "AC" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                ["TwilioAuthToken"] = twilioToken,
                ["TwilioSecondaryAuthToken"] = twilioSecondary,
            }));
            Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        }
        var accounts = vault.Services.GetRequiredService<IAccountStore>();
        var linked = (await vault.Services.GetRequiredService<ITwilioLinkStore>().FindAsync(sub.Sid))!;
        var stored = new (string Secret, byte[] Value)[]
        {
            (sub.AuthToken, (await accounts.FindAsync(sub.Sid))!.TokenSealed),
            (vault.AuthToken, (await accounts.FindAsync(vault.AccountSid))!.TokenSealed),
            (key.Secret, (await accounts.FindApiKeySecretAsync(key.Sid))!.SecretSealed),
            (twilioToken, linked.TokenSealed),
            (twilioSecondary, linked.SecondaryTokenSealed!),
        };
        foreach (var (secret, value) in stored)
        {
            // The secret's text appears nowhere in what is stored, as bytes or as hex.
            Assert.Equal(-1, value.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)));
            Assert.DoesNotContain(secret, Convert.ToHexStringLower(value), StringComparison.Ordinal);
        }
        // Every stored value is different even for equal inputs (a fresh nonce each time), and the vault still accepts the secrets.
        Assert.Equal(stored.Length, stored.Select(s => Convert.ToHexString(s.Value)).Distinct().Count());
        using var asKey = vault.Http(key.Sid, key.Secret);
        using var asSub = vault.Http(sub.Sid, sub.AuthToken);
        Assert.Equal(HttpStatusCode.OK, (await asKey.GetAsync($"/2010-04-01/Accounts/{sub.Sid}.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asSub.GetAsync($"/2010-04-01/Accounts/{sub.Sid}.json")).StatusCode);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(300_000)]
    public async Task A_media_write_failing_part_way_leaves_no_byte_and_fails_the_recording_with_16104(int failAfter)
    {
        await using var vault = await VaultServer.StartAsync(services: s =>
            s.AddSingleton<IMediaStore>(p => new FaultyMediaStore(TestMedia.IsS3
                ? new Storage.S3.S3MediaStore(p.GetRequiredService<VaultOptions>().S3)
                : new FileMediaStore(p.GetRequiredService<VaultOptions>()), failAfter)));
        await using var receiver = await CallbackReceiver.StartAsync();
        var (status, body) = await vault.UploadAsync(vault.AccountSid, vault.AuthToken, Audio.CallSid(), Audio.Wav(60),
            $"RecordingStatusCallback={Uri.EscapeDataString(receiver.Url)}&RecordingStatusCallbackEvent=failed");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("failed", body.GetProperty("status").GetString());
        Assert.Equal(16104, body.GetProperty("error_code").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("encryption_details").ValueKind);
        // No object, no temporary file: not a byte of the recording is left under media/.
        Assert.Empty(await TestMedia.EverythingAsync(vault.DataDir));
        var callback = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Equal("failed", callback.Parameters["RecordingStatus"]);
        Assert.Equal("16104", callback.Parameters["ErrorCode"]);
        var notification = Assert.Single(await NotificationResource.ReadAsync(client: vault.Twilio()));
        Assert.Equal("16104", notification.ErrorCode);
        Assert.Contains("IOException", notification.MessageText, StringComparison.Ordinal);
        using var http = vault.Http(vault.AccountSid, vault.AuthToken);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/2010-04-01/Accounts/{vault.AccountSid}/Recordings/{body.GetProperty("sid").GetString()}")).StatusCode);
    }

    [Fact]
    public async Task A_change_whose_callback_cannot_be_queued_is_not_made()
    {
        // The recording, its notification and its callback commit together: if the outbox row
        // cannot be written, neither is the change (a crash between the two would lose the callback).
        await using var vault = await VaultServer.StartAsync();
        var s = vault.Services;
        var lifecycle = new Core.RecordingLifecycle(s.GetRequiredService<IVaultDatabase>(), s.GetRequiredService<IRecordingStore>(),
            s.GetRequiredService<INotificationStore>(), new RefusingOutbox(), s.GetRequiredService<IPublicKeyStore>(),
            s.GetRequiredService<Core.ICallbackSender>(), s.GetRequiredService<VaultOptions>(), TimeProvider.System, s.GetRequiredService<Core.CallbackUrlSeal>(),
            s.GetRequiredService<Core.AuditTrail>());
        var callSid = Audio.CallSid();
        await Assert.ThrowsAsync<IOException>(() => lifecycle.CreateAsync(TestRecordings.New(vault.AccountSid, callSid, "https://example.com/hook", "in-progress completed"), RecordingStatus.InProgress, Core.Actor.System));
        Assert.Empty(await s.GetRequiredService<IRecordingStore>().PageAsync(new RecordingFilter(vault.AccountSid, callSid), new PageCursor(10)));
        Assert.Equal("0", await TestDatabase.ScalarAsync(vault.DataDir, "SELECT COUNT(*) FROM recordings"));
    }

    [Theory]
    [InlineData(typeof(Core.AccountDirectory), "Matches")]
    [InlineData(typeof(Core.TwilioSignature), "Verify")]
    public void Secrets_and_signatures_are_compared_in_constant_time(Type type, string method)
    {
        // A timing difference cannot be measured reliably in a test; what makes it impossible can be
        // checked: the comparison calls CryptographicOperations.FixedTimeEquals, never ==, Equals or SequenceEqual.
        var body = type.GetMethod(method, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var called = CalledMethods(body).Select(m => $"{m.DeclaringType?.Name}.{m.Name}").ToList();
        Assert.Contains("CryptographicOperations.FixedTimeEquals", called);
        Assert.DoesNotContain(called, c => c is "String.op_Equality" or "String.Equals" or "MemoryExtensions.SequenceEqual" or "Enumerable.SequenceEqual" or "String.CompareOrdinal");
    }

    // The methods a method's IL calls (call/callvirt tokens that resolve to methods).
    private static IEnumerable<System.Reflection.MethodBase> CalledMethods(System.Reflection.MethodInfo method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] is 0x28 or 0x6F)
            {
                System.Reflection.MethodBase? called = null;
                try
                {
                    called = method.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1));
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException)
                {
                }
                if (called is not null)
                {
                    yield return called;
                }
            }
        }
    }

    private sealed class RefusingOutbox : IOutboxStore
    {
        public Task<OutboxMessage> AddAsync(WriteScope scope, NewOutboxMessage message, DateTimeOffset leaseUntil, DateTimeOffset now) =>
            throw new IOException("injected: the outbox cannot be written");

        public Task<IReadOnlyList<OutboxMessage>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<OutboxMessage>>([]);

        public Task MarkDeliveredAsync(IReadOnlyCollection<long> seqs, DateTimeOffset now) => Task.CompletedTask;

        public Task RetryLaterAsync(long seq, int attempts, string error, DateTimeOffset next) => Task.CompletedTask;

        public Task ReleaseAsync(IReadOnlyCollection<long> seqs, DateTimeOffset now) => Task.CompletedTask;

        public Task<OutboxMessage?> FindAsync(long seq, CancellationToken cancellationToken = default) => Task.FromResult<OutboxMessage?>(null);
    }

    /// <summary>The real media store, except that a write fails once <c>failAfter</c> bytes have gone through it.</summary>
    private sealed class FaultyMediaStore(IMediaStore inner, long failAfter) : IMediaStore
    {
        public async Task<MediaWrite> CreateAsync(string key, CancellationToken cancellationToken = default) =>
            new FaultyWrite(await inner.CreateAsync(key, cancellationToken), failAfter);

        public Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
            inner.OpenReadAsync(key, offset, length, cancellationToken);

        public Task<long?> GetLengthAsync(string key, CancellationToken cancellationToken = default) => inner.GetLengthAsync(key, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public Task PrepareAsync(CancellationToken cancellationToken = default) => inner.PrepareAsync(cancellationToken);

        private sealed class FaultyWrite(MediaWrite inner, long failAfter) : MediaWrite
        {
            private readonly FailingStream _stream = new(inner.Stream, failAfter);

            public override Stream Stream => _stream;

            public override Task CommitAsync(CancellationToken cancellationToken = default) => inner.CommitAsync(cancellationToken);

            public override ValueTask DisposeAsync() => inner.DisposeAsync();
        }

        private sealed class FailingStream(Stream inner, long failAfter) : Stream
        {
            private long _written;

            public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                Check(buffer.Length);
                inner.Write(buffer);
            }

            public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                Check(buffer.Length);
                await inner.WriteAsync(buffer, cancellationToken);
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            private void Check(int count)
            {
                if (_written + count >= failAfter)
                {
                    throw new IOException("injected: no space left on device");
                }
                _written += count;
            }

            public override void Flush() => inner.Flush();
            public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => _written;
            public override long Position { get => _written; set => throw new NotSupportedException(); }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }
}
