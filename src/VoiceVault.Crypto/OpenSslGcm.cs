using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Security.Cryptography;
using System.Text;

namespace VoiceVault.Crypto;

/// <summary>
/// AES-256-GCM through OpenSSL's EVP interface, in the same libcrypto that .NET's own
/// System.Security.Cryptography.Native shim has loaded. .NET's AesGcm is one-shot (the whole
/// message in one span, so nothing over 2 GiB); EVP is incremental, which is what a recording
/// needs.
/// </summary>
internal sealed partial class OpenSslGcm : GcmEngine
{
    private const int MaxChunk = 1 << 30;
    private readonly SafeEvpCipherCtxHandle _ctx;
    private readonly bool _encrypt;

    public OpenSslGcm(bool encrypt, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        _encrypt = encrypt;
        _ctx = Native.EVP_CIPHER_CTX_new();
        if (_ctx.IsInvalid)
        {
            throw Native.Failure(nameof(Native.EVP_CIPHER_CTX_new));
        }
        int enc = encrypt ? 1 : 0;
        // Two-step init: the cipher first, so that the IV length can be set before the IV is given.
        Native.Check(Native.EVP_CipherInit_ex(_ctx, Native.EVP_aes_256_gcm(), 0, ref Unsafe.NullRef<byte>(), ref Unsafe.NullRef<byte>(), enc), nameof(Native.EVP_CipherInit_ex));
        Native.Check(Native.EVP_CIPHER_CTX_ctrl(_ctx, Native.EVP_CTRL_GCM_SET_IVLEN, iv.Length, ref Unsafe.NullRef<byte>()), nameof(Native.EVP_CTRL_GCM_SET_IVLEN));
        Native.Check(Native.EVP_CipherInit_ex(_ctx, 0, 0, ref MemoryMarshal.GetReference(key), ref MemoryMarshal.GetReference(iv), enc), nameof(Native.EVP_CipherInit_ex));
    }

    public static bool IsAvailable => Native.Available.Value;

    public override int Update(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int written = 0;
        while (!input.IsEmpty)
        {
            int n = Math.Min(input.Length, MaxChunk);
            Native.Check(Native.EVP_CipherUpdate(_ctx, ref MemoryMarshal.GetReference(output[written..]), out int outl, ref MemoryMarshal.GetReference(input), n), nameof(Native.EVP_CipherUpdate));
            written += outl;
            input = input[n..];
        }
        return written;
    }

    public override int FinishEncrypt(Span<byte> output, Span<byte> tag)
    {
        if (!_encrypt)
        {
            throw new InvalidOperationException("This engine decrypts.");
        }
        Span<byte> scratch = stackalloc byte[32];
        Native.Check(Native.EVP_CipherFinal_ex(_ctx, ref MemoryMarshal.GetReference(scratch), out int outl), nameof(Native.EVP_CipherFinal_ex));
        Native.Check(Native.EVP_CIPHER_CTX_ctrl(_ctx, Native.EVP_CTRL_GCM_GET_TAG, RecordingFormat.TagSize, ref MemoryMarshal.GetReference(tag)), nameof(Native.EVP_CTRL_GCM_GET_TAG));
        scratch[..outl].CopyTo(output);
        return outl;
    }

    public override int FinishDecrypt(ReadOnlySpan<byte> tag, Span<byte> output)
    {
        if (_encrypt)
        {
            throw new InvalidOperationException("This engine encrypts.");
        }
        Span<byte> tagCopy = stackalloc byte[RecordingFormat.TagSize];
        tag.CopyTo(tagCopy);
        Native.Check(Native.EVP_CIPHER_CTX_ctrl(_ctx, Native.EVP_CTRL_GCM_SET_TAG, RecordingFormat.TagSize, ref MemoryMarshal.GetReference(tagCopy)), nameof(Native.EVP_CTRL_GCM_SET_TAG));
        Span<byte> scratch = stackalloc byte[32];
        if (Native.EVP_CipherFinal_ex(_ctx, ref MemoryMarshal.GetReference(scratch), out int outl) != 1)
        {
            // A tag mismatch leaves nothing useful on the error queue, but whatever is there must
            // not leak into the next operation on this thread (.NET's own shim reads it).
            Native.ERR_clear_error();
            throw new AuthenticationFailedException();
        }
        scratch[..outl].CopyTo(output);
        return outl;
    }

    public override void Dispose() => _ctx.Dispose();

    internal sealed class SafeEvpCipherCtxHandle : SafeHandle
    {
        public SafeEvpCipherCtxHandle() : base(0, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == 0;

        // EVP_CIPHER_CTX_free cleanses the key schedule before freeing it.
        protected override bool ReleaseHandle()
        {
            Native.EVP_CIPHER_CTX_free(handle);
            return true;
        }
    }

    // Internal, not private: tests drive Check and Failure with an error they put on the queue.
    internal static partial class Native
    {
        private const string Library = "voicevault-libcrypto";
        public const int EVP_CTRL_GCM_SET_IVLEN = 0x9;
        public const int EVP_CTRL_GCM_GET_TAG = 0x10;
        public const int EVP_CTRL_GCM_SET_TAG = 0x11;

        // The sonames .NET's System.Security.Cryptography.Native tries, newest first. dlopen of a
        // soname already in the process returns that same library.
        private static readonly string[] Candidates = ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"];
        private static nint s_handle;

        public static readonly Lazy<bool> Available = new(Probe);

        static Native()
        {
            NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);
        }

        private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
        {
            if (name != Library)
            {
                return 0;
            }
            if (s_handle != 0)
            {
                return s_handle;
            }
            foreach (var candidate in Candidates)
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    s_handle = handle;
                    return handle;
                }
            }
            return 0;
        }

        private static bool Probe()
        {
            if (!OperatingSystem.IsLinux())
            {
                return false;
            }
            try
            {
                // Make sure .NET's own OpenSSL is initialised first, so that we share its library.
                _ = SHA256.HashData(ReadOnlySpan<byte>.Empty);
                return EVP_aes_256_gcm() != 0;
            }
            catch (DllNotFoundException)
            {
                return false;
            }
            catch (EntryPointNotFoundException)
            {
                return false;
            }
        }

        public static void Check(int result, string function)
        {
            if (result != 1)
            {
                throw Failure(function);
            }
        }

        public static CryptographicException Failure(string function)
        {
            var errors = new StringBuilder();
            Span<byte> text = stackalloc byte[256];
            ulong code;
            while ((code = ERR_get_error()) != 0)
            {
                text.Clear();
                ERR_error_string_n(code, ref MemoryMarshal.GetReference(text), (nuint)text.Length);
                int end = text.IndexOf((byte)0);
                errors.Append(errors.Length == 0 ? "" : "; ").Append(Encoding.ASCII.GetString(text[..(end < 0 ? text.Length : end)]));
            }
            // Clear the queue so a stale error cannot be reported by the next, unrelated call.
            ERR_clear_error();
            return new CryptographicException($"OpenSSL {function} failed{(errors.Length > 0 ? ": " + errors : ".")}");
        }

        [LibraryImport(Library)]
        public static partial SafeEvpCipherCtxHandle EVP_CIPHER_CTX_new();

        [LibraryImport(Library)]
        public static partial void EVP_CIPHER_CTX_free(nint ctx);

        [LibraryImport(Library)]
        public static partial nint EVP_aes_256_gcm();

        [LibraryImport(Library)]
        public static partial int EVP_CipherInit_ex(SafeEvpCipherCtxHandle ctx, nint cipher, nint engine, ref byte key, ref byte iv, int enc);

        [LibraryImport(Library)]
        public static partial int EVP_CIPHER_CTX_ctrl(SafeEvpCipherCtxHandle ctx, int type, int arg, ref byte ptr);

        [LibraryImport(Library)]
        public static partial int EVP_CipherUpdate(SafeEvpCipherCtxHandle ctx, ref byte output, out int outl, ref byte input, int inl);

        [LibraryImport(Library)]
        public static partial int EVP_CipherFinal_ex(SafeEvpCipherCtxHandle ctx, ref byte output, out int outl);

        [LibraryImport(Library)]
        public static partial ulong ERR_get_error();

        [LibraryImport(Library)]
        public static partial void ERR_error_string_n(ulong e, ref byte buf, nuint len);

        [LibraryImport(Library)]
        public static partial void ERR_clear_error();
    }
}
