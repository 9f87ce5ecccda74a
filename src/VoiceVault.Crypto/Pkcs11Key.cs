using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Encodings;
using static VoiceVault.Crypto.Pkcs11Module;

namespace VoiceVault.Crypto;

/// <summary>A PKCS#11 token refused or could not do what was asked: the message says what and why.</summary>
public sealed class TokenException : RecordingCryptoException
{
    /// <summary>A failure with what to do about it.</summary>
    public TokenException(string message, string? hint = null, Exception? inner = null) : base(message, inner)
    {
        Hint = hint;
    }
}

/// <summary>
/// An RSA private key that lives in a PKCS#11 token (an HSM, a smart card, SoftHSM2) and never
/// leaves it. It is an <see cref="RSA"/> that can only decrypt with OAEP-SHA256 — every place
/// that takes a private key takes this one. The public half is read from the token; asking for
/// the private half is refused.
/// </summary>
/// <remarks>
/// The unwrap is CKM_RSA_PKCS_OAEP with SHA-256 and MGF1-SHA256 inside the token. Some tokens
/// implement OAEP with SHA-1 only (SoftHSM2 up to 2.6); for them <see cref="OaepVariable"/> = <c>host</c>
/// lets the token do the raw RSA operation (CKM_RSA_X_509) and this process the OAEP decoding —
/// the private key still stays in the token, but the token then decrypts without padding for
/// anyone who holds the PIN, so the default is to refuse and say so.
/// </remarks>
public sealed class Pkcs11Key : RSA
{
    /// <summary>Where OAEP runs: <c>token</c> (the default) or <c>host</c> (see remarks).</summary>
    public const string OaepVariable = "VOICEVAULT_PKCS11_OAEP";

    private readonly Pkcs11Module _module;
    private readonly nuint _session;
    private readonly nuint _handle;
    private readonly RSAParameters _public;
    private readonly Lock _gate = new();
    private bool _closed;

    private Pkcs11Key(Pkcs11Uri uri, Pkcs11Module module, string token, nuint session, nuint handle, bool hostOaep)
    {
        Uri = uri;
        TokenLabel = token;
        _module = module;
        _session = session;
        _handle = handle;
        HostOaep = hostOaep;
        var modulus = (module.Attribute(session, handle, CKA_MODULUS) ?? throw new TokenException($"the key {uri.Redacted} shows no modulus; is it an RSA key?"))
            .AsSpan().TrimStart((byte)0).ToArray();
        _public = new RSAParameters { Modulus = modulus, Exponent = module.Attribute(session, handle, CKA_PUBLIC_EXPONENT) ?? [1, 0, 1] };
        Extractable = Flag(CKA_EXTRACTABLE);
        Sensitive = Flag(CKA_SENSITIVE);
        if (!Flag(CKA_DECRYPT))
        {
            throw new TokenException($"the key {uri.Redacted} may not decrypt (its CKA_DECRYPT is false), so it cannot unwrap recording keys",
                "make the key with voicevault keygen --pkcs11, which sets what it needs");
        }
        LegalKeySizesValue = [new KeySizes(1024, 16384, 8)];
        KeySizeValue = (modulus.Length - 1) * 8 + (32 - int.LeadingZeroCount(modulus[0]));

        bool Flag(nuint type) => module.Attribute(session, handle, type) is [not 0, ..];
    }

    /// <summary>The URI the key was opened by.</summary>
    public Pkcs11Uri Uri { get; }

    /// <summary>The label of the token that holds the key.</summary>
    public string TokenLabel { get; }

    /// <summary>The key's CKA_EXTRACTABLE as the token reports it.</summary>
    public bool Extractable { get; }

    /// <summary>The key's CKA_SENSITIVE as the token reports it.</summary>
    public bool Sensitive { get; }

    /// <summary>True when OAEP runs in this process over the token's raw RSA (see remarks).</summary>
    public bool HostOaep { get; }

    /// <summary>Opens the private key a PKCS#11 URI names, logging in to its token.</summary>
    /// <param name="uri">The URI (RFC 7512).</param>
    /// <param name="environment">Reads environment variables (the process's when null).</param>
    /// <exception cref="TokenException">The module, token or key is not there, the PIN is wrong, or the token refuses.</exception>
    public static Pkcs11Key Open(string uri, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var parsed = Pkcs11Uri.Parse(uri);
        bool hostOaep = HostOaepWanted(environment);
        var (module, token) = FindToken(parsed, environment);
        var session = Call(() => module.OpenSession(token.Slot, readWrite: false), $"open a session with token '{token.Label}'");
        try
        {
            LogIn(module, session, token, parsed, environment);
            return new Pkcs11Key(parsed, module, token.Label, session, FindKey(module, session, parsed, token.Label), hostOaep);
        }
        catch
        {
            module.CloseSession(session);
            throw;
        }
    }

    /// <summary>
    /// Makes a new RSA key pair inside the token the URI names, labelled by its <c>object=</c>:
    /// the private key sensitive and not extractable, allowed to decrypt and nothing else.
    /// </summary>
    /// <exception cref="TokenException">A key with that label exists already, or the token refuses.</exception>
    public static Pkcs11Key Generate(string uri, int bits, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var parsed = Pkcs11Uri.Parse(uri);
        var label = parsed.Object ?? throw new KeyFormatException($"'{parsed.Redacted}' has no object=LABEL: a new key needs a label");
        bool hostOaep = HostOaepWanted(environment);
        var (module, token) = FindToken(parsed, environment);
        var session = Call(() => module.OpenSession(token.Slot, readWrite: true), $"open a read-write session with token '{token.Label}'");
        try
        {
            LogIn(module, session, token, parsed, environment);
            if (Call(() => module.Find(session, Pkcs11Attribute.Text(CKA_LABEL, label)), "search the token").Count > 0)
            {
                throw new TokenException($"token '{token.Label}' already holds an object labelled '{label}'; refusing to make a second key under the same name",
                    "choose another object= label, or delete the old key with the token's own tools first");
            }
            var id = parsed.Id ?? RandomNumberGenerator.GetBytes(16);
            Pkcs11Attribute[] publicTemplate =
            [
                Pkcs11Attribute.Number(CKA_CLASS, CKO_PUBLIC_KEY), Pkcs11Attribute.Number(CKA_KEY_TYPE, CKK_RSA),
                Pkcs11Attribute.Bool(CKA_TOKEN, true), Pkcs11Attribute.Bool(CKA_PRIVATE, false),
                Pkcs11Attribute.Text(CKA_LABEL, label), new(CKA_ID, id),
                Pkcs11Attribute.Number(CKA_MODULUS_BITS, (nuint)bits), new(CKA_PUBLIC_EXPONENT, [1, 0, 1]),
                Pkcs11Attribute.Bool(CKA_ENCRYPT, true), Pkcs11Attribute.Bool(CKA_VERIFY, false), Pkcs11Attribute.Bool(CKA_WRAP, false),
            ];
            Pkcs11Attribute[] privateTemplate =
            [
                Pkcs11Attribute.Number(CKA_CLASS, CKO_PRIVATE_KEY), Pkcs11Attribute.Number(CKA_KEY_TYPE, CKK_RSA),
                Pkcs11Attribute.Bool(CKA_TOKEN, true), Pkcs11Attribute.Bool(CKA_PRIVATE, true),
                Pkcs11Attribute.Text(CKA_LABEL, label), new(CKA_ID, id),
                Pkcs11Attribute.Bool(CKA_SENSITIVE, true), Pkcs11Attribute.Bool(CKA_EXTRACTABLE, false),
                Pkcs11Attribute.Bool(CKA_DECRYPT, true), Pkcs11Attribute.Bool(CKA_UNWRAP, false),
                Pkcs11Attribute.Bool(CKA_SIGN, false), Pkcs11Attribute.Bool(CKA_SIGN_RECOVER, false),
            ];
            var handle = Call(() => module.GenerateKeyPair(session, CKM_RSA_PKCS_KEY_PAIR_GEN, publicTemplate, privateTemplate),
                $"make a {bits}-bit RSA key in token '{token.Label}'");
            return new Pkcs11Key(parsed, module, token.Label, session, handle, hostOaep);
        }
        catch
        {
            module.CloseSession(session);
            throw;
        }
    }

    /// <inheritdoc/>
    public override RSAParameters ExportParameters(bool includePrivateParameters)
    {
        if (includePrivateParameters)
        {
            throw new CryptographicException($"the private key {Uri.Redacted} stays in its PKCS#11 token and cannot be exported");
        }
        return new RSAParameters { Modulus = (byte[])_public.Modulus!.Clone(), Exponent = (byte[])_public.Exponent!.Clone() };
    }

    /// <inheritdoc/>
    public override void ImportParameters(RSAParameters parameters) =>
        throw new NotSupportedException("a PKCS#11 key is made in its token (voicevault keygen --pkcs11), not imported");

    /// <summary>Encrypts to the public half, in this process (nothing secret is involved).</summary>
    public override byte[] Encrypt(byte[] data, RSAEncryptionPadding padding)
    {
        using var publicKey = RSA.Create(_public);
        return publicKey.Encrypt(data, padding);
    }

    /// <inheritdoc/>
    public override byte[] Decrypt(byte[] data, RSAEncryptionPadding padding)
    {
        ArgumentNullException.ThrowIfNull(data);
        RequireOaepSha256(padding);
        return Unwrap(data);
    }

    /// <inheritdoc/>
    public override bool TryDecrypt(ReadOnlySpan<byte> data, Span<byte> destination, RSAEncryptionPadding padding, out int bytesWritten)
    {
        RequireOaepSha256(padding);
        var plain = Unwrap(data);
        try
        {
            if (plain.Length > destination.Length)
            {
                bytesWritten = 0;
                return false;
            }
            plain.CopyTo(destination);
            bytesWritten = plain.Length;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            if (!_closed)
            {
                _closed = true;
                _module.CloseSession(_session);
            }
        }
        base.Dispose(disposing);
    }

    private static void RequireOaepSha256(RSAEncryptionPadding padding)
    {
        if (padding != RSAEncryptionPadding.OaepSHA256)
        {
            throw new CryptographicException($"a recording key in a PKCS#11 token decrypts with OAEP-SHA256 only, not {padding}");
        }
    }

    // A session runs one operation at a time: unwraps from parallel downloads take turns.
    private byte[] Unwrap(ReadOnlySpan<byte> wrapped)
    {
        // A block not below this key's modulus was made for another key; tokens differ in what
        // they answer to it (SoftHSM2: CKR_GENERAL_ERROR), so it is not sent.
        if (new System.Numerics.BigInteger(wrapped, isUnsigned: true, isBigEndian: true)
            >= new System.Numerics.BigInteger(_public.Modulus, isUnsigned: true, isBigEndian: true))
        {
            throw new CryptographicException("the wrapped CEK is not below this key's modulus");
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (HostOaep)
            {
                var oaep = new OaepEncoding(new RawRsa(this), new Sha256Digest(), new Sha256Digest(), null);
                oaep.Init(false, null);
                try
                {
                    return oaep.ProcessBlock(wrapped.ToArray(), 0, wrapped.Length);
                }
                catch (InvalidCipherTextException e)
                {
                    throw new CryptographicException("OAEP decoding failed", e);
                }
            }
            try
            {
                return _module.Decrypt(_session, Mechanism.OaepSha256, _handle, wrapped);
            }
            catch (Pkcs11Error e) when (NotThisKeys(e))
            {
                throw new CryptographicException($"the token could not unwrap the CEK ({e.CodeName})", e);
            }
            catch (Pkcs11Error e) when (e.Code is CKR_ARGUMENTS_BAD or CKR_MECHANISM_PARAM_INVALID or CKR_MECHANISM_INVALID)
            {
                throw new TokenException(
                    $"token '{TokenLabel}' refuses CKM_RSA_PKCS_OAEP with SHA-256 and MGF1-SHA256 ({e.CodeName}), the only padding recording keys use; SoftHSM2 up to 2.6 implements OAEP with SHA-1 only",
                    $"with such a token, set {OaepVariable}=host: the token does the raw RSA operation and voicevault the OAEP decoding; the key still never leaves the token (docs/security.md)", e);
            }
            catch (Pkcs11Error e)
            {
                throw Failure(e, $"unwrap a CEK with {Uri.Redacted}");
            }
        }
    }

    // The token's raw RSA (CKM_RSA_X_509) as BouncyCastle's block cipher, so that its vetted
    // OAEP decoding does the rest when the token cannot.
    private sealed class RawRsa(Pkcs11Key key) : IAsymmetricBlockCipher
    {
        private int ModulusBytes => (key.KeySize + 7) / 8;

        public string AlgorithmName => "RSA";

        public void Init(bool forEncryption, ICipherParameters parameters)
        {
            if (forEncryption)
            {
                throw new NotSupportedException("the token's raw RSA is used to decrypt only");
            }
        }

        public int GetInputBlockSize() => ModulusBytes;

        // As BouncyCastle's own RSA engine: a decrypted block without its leading zero byte.
        public int GetOutputBlockSize() => ModulusBytes - 1;

        public byte[] ProcessBlock(byte[] inBuf, int inOff, int inLen)
        {
            byte[] block;
            try
            {
                block = key._module.Decrypt(key._session, Mechanism.RawRsa, key._handle, inBuf.AsSpan(inOff, inLen));
            }
            catch (Pkcs11Error e) when (NotThisKeys(e))
            {
                throw new InvalidCipherTextException($"the token refused the block ({e.CodeName})");
            }
            catch (Pkcs11Error e)
            {
                throw Failure(e, $"do the raw RSA operation with {key.Uri.Redacted}");
            }
            if (block.Length == ModulusBytes && block[0] == 0)
            {
                var rest = block[1..];
                CryptographicOperations.ZeroMemory(block);
                return rest;
            }
            return block;
        }
    }

    // A decryption the token started and then failed: the wrap is not this key's (or damaged).
    // Tokens answer that differently: the standard's CKR_ENCRYPTED_DATA_INVALID, or openCryptoki's
    // CKR_FUNCTION_FAILED; a device, session or login failure stays a token failure.
    private static bool NotThisKeys(Pkcs11Error e) =>
        e.Function == "C_Decrypt" && e.Code is CKR_ENCRYPTED_DATA_INVALID or CKR_ENCRYPTED_DATA_LEN_RANGE or CKR_FUNCTION_FAILED;

    private static bool HostOaepWanted(Func<string, string?> environment) => environment(OaepVariable)?.Trim().ToLowerInvariant() switch
    {
        null or "" or "token" => false,
        "host" => true,
        var other => throw new KeyFormatException($"{OaepVariable}={other} is not understood; use token (the default) or host"),
    };

    private static (Pkcs11Module Module, Token Token) FindToken(Pkcs11Uri uri, Func<string, string?> environment)
    {
        var path = uri.ModulePath(environment);
        if (!File.Exists(path))
        {
            throw new TokenException($"the PKCS#11 module '{path}' does not exist",
                $"install the token's module (SoftHSM2 on Debian: apt-get install softhsm2) and point {Pkcs11Uri.ModuleVariable} or module-path= at its .so file");
        }
        Pkcs11Module module;
        try
        {
            module = Pkcs11Module.Load(path);
        }
        catch (Pkcs11Error e)
        {
            throw Failure(e, $"initialise the module '{path}'");
        }
        catch (DllNotFoundException e)
        {
            throw new TokenException($"'{path}' could not be loaded as a PKCS#11 module: {e.Message}", "check that it is the token's PKCS#11 .so file", e);
        }
        var tokens = Call(() => module.Slots().Select(module.TokenIn).Where(t => t.Initialized).ToList(), "list the module's tokens");
        var matches = tokens.Where(t => (uri.SlotId is null || t.Slot == uri.SlotId)
            && Same(uri.Token, t.Label) && Same(uri.Manufacturer, t.Manufacturer) && Same(uri.Model, t.Model) && Same(uri.Serial, t.Serial)).ToList();
        return matches.Count switch
        {
            1 => (module, matches[0]),
            0 => throw new TokenException(
                $"no token matches {uri.Redacted}" + (tokens.Count == 0 ? ": the module has no initialised token" : $"; tokens present: {string.Join(", ", tokens.Select(t => "'" + t.Label + "'"))}"),
                tokens.Count == 0 ? "initialise one with the token's own tools (SoftHSM2: softhsm2-util --init-token --free --label NAME)" : "check token= in the URI"),
            _ => throw new TokenException($"{matches.Count} tokens match {uri.Redacted}", "add token=, serial= or slot-id= to the URI to choose one"),
        };

        static bool Same(string? wanted, string actual) => wanted is null || string.Equals(wanted, actual, StringComparison.Ordinal);
    }

    private static void LogIn(Pkcs11Module module, nuint session, Token token, Pkcs11Uri uri, Func<string, string?> environment)
    {
        var pin = uri.Pin(environment);
        if (pin is null)
        {
            if (token.LoginRequired)
            {
                throw new TokenException($"token '{token.Label}' needs a PIN and none was given",
                    $"set {Pkcs11Uri.PinVariable}, or add ?pin-source=/path/to/pin-file to the URI");
            }
            return;
        }
        nuint rv;
        try
        {
            rv = module.Login(session, pin);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
        switch (rv)
        {
            case CKR_OK:
            case CKR_USER_ALREADY_LOGGED_IN: // logins are per application: another key of this token logged in already
                return;
            case CKR_PIN_INCORRECT:
                throw new TokenException($"the PIN for token '{token.Label}' is wrong (CKR_PIN_INCORRECT)",
                    $"check {Pkcs11Uri.PinVariable} or the pin-source= file; tokens lock the PIN after a few wrong tries");
            case CKR_PIN_LOCKED or CKR_PIN_EXPIRED:
                throw new TokenException($"the PIN for token '{token.Label}' is {(rv == CKR_PIN_LOCKED ? "locked" : "expired")} ({Name(rv)})",
                    "the token's security officer has to reset it");
            default:
                throw Failure(new Pkcs11Error("C_Login", rv), $"log in to token '{token.Label}'");
        }
    }

    private static nuint FindKey(Pkcs11Module module, nuint session, Pkcs11Uri uri, string token)
    {
        var template = new List<Pkcs11Attribute> { Pkcs11Attribute.Number(CKA_CLASS, CKO_PRIVATE_KEY), Pkcs11Attribute.Number(CKA_KEY_TYPE, CKK_RSA) };
        if (uri.Object is { } label)
        {
            template.Add(Pkcs11Attribute.Text(CKA_LABEL, label));
        }
        if (uri.Id is { } id)
        {
            template.Add(new Pkcs11Attribute(CKA_ID, id));
        }
        var found = Call(() => module.Find(session, [.. template]), "search the token");
        if (found.Count == 1)
        {
            return found[0];
        }
        if (found.Count > 1)
        {
            throw new TokenException($"{found.Count} RSA private keys in token '{token}' match {uri.Redacted}", "add id= to the URI to choose one");
        }
        var labels = Call(() => module.Find(session, template[0], template[1])
            .Select(h => module.Attribute(session, h, CKA_LABEL) is { } l ? System.Text.Encoding.UTF8.GetString(l) : "(no label)").ToList(), "search the token");
        throw new TokenException(
            $"token '{token}' holds no RSA private key matching {uri.Redacted}" + (labels.Count == 0 ? " (it holds none at all)" : $"; its RSA private keys: {string.Join(", ", labels.Select(l => "'" + l + "'"))}"),
            labels.Count == 0 ? "make one: voicevault keygen --pkcs11 'pkcs11:token=…;object=LABEL' --public-out KEY.pub" : "check object= in the URI");
    }

    private static T Call<T>(Func<T> operation, string what)
    {
        try
        {
            return operation();
        }
        catch (Pkcs11Error e)
        {
            throw Failure(e, what);
        }
    }

    private static TokenException Failure(Pkcs11Error e, string what) =>
        new($"the PKCS#11 module could not {what}: {e.CodeName}", "the token's own log or tools say more (SoftHSM2: log.level in softhsm2.conf)", e);
}
