using System.Buffers;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace VoiceVault.Crypto;

/// <summary>
/// AES-256-GCM from BouncyCastle: the portable fallback where OpenSSL's libcrypto is not
/// available, and the second implementation the tests hold the OpenSSL path against.
/// </summary>
internal sealed class ManagedGcm : GcmEngine
{
    private readonly GcmBlockCipher _cipher;
    private readonly bool _encrypt;
    private byte[]? _scratch;

    public ManagedGcm(bool encrypt, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        _encrypt = encrypt;
        _cipher = new GcmBlockCipher(AesUtilities.CreateEngine());
        var keyCopy = key.ToArray();
        try
        {
            _cipher.Init(encrypt, new AeadParameters(new KeyParameter(keyCopy), RecordingFormat.TagSize * 8, iv.ToArray()));
        }
        finally
        {
            Array.Clear(keyCopy);
        }
    }

    public override int Update(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (input.IsEmpty)
        {
            return 0;
        }
        if (_cipher.GetUpdateOutputSize(input.Length) > input.Length + MaxLag)
        {
            throw new InvalidOperationException("BouncyCastle's GCM holds back more than the engine contract allows.");
        }
        if (!input.Overlaps(output))
        {
            return _cipher.ProcessBytes(input, output);
        }
        // BouncyCastle emits held-back bytes ahead of the current input, so in-place use would
        // overwrite input it has not read yet: work from a copy.
        if (_scratch is null || _scratch.Length < input.Length)
        {
            ClearScratch();
            _scratch = ArrayPool<byte>.Shared.Rent(input.Length);
        }
        input.CopyTo(_scratch);
        return _cipher.ProcessBytes(_scratch.AsSpan(0, input.Length), output);
    }

    public override int FinishEncrypt(Span<byte> output, Span<byte> tag)
    {
        if (!_encrypt)
        {
            throw new InvalidOperationException("This engine decrypts.");
        }
        // BouncyCastle appends the tag to the final output; the engine contract returns it apart.
        int written = _cipher.DoFinal(output) - RecordingFormat.TagSize;
        output.Slice(written, RecordingFormat.TagSize).CopyTo(tag);
        output.Slice(written, RecordingFormat.TagSize).Clear();
        return written;
    }

    public override int FinishDecrypt(ReadOnlySpan<byte> tag, Span<byte> output)
    {
        if (_encrypt)
        {
            throw new InvalidOperationException("This engine encrypts.");
        }
        try
        {
            int written = _cipher.ProcessBytes(tag, output);
            return written + _cipher.DoFinal(output[written..]);
        }
        catch (InvalidCipherTextException)
        {
            throw new AuthenticationFailedException();
        }
    }

    public override void Dispose()
    {
        ClearScratch();
        _cipher.Reset();
    }

    private void ClearScratch()
    {
        if (_scratch is not null)
        {
            // The scratch copy held plaintext (encrypting) or unauthenticated plaintext's source.
            Array.Clear(_scratch);
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = null;
        }
    }
}
