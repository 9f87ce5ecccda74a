namespace VoiceVault.Crypto;

/// <summary>Base of every failure the format code reports; the message says what happened and what to check.</summary>
public class RecordingCryptoException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RecordingCryptoException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>What the user should check, when there is something specific to say.</summary>
    public string? Hint { get; init; }
}

/// <summary>
/// The AES-GCM tag did not verify: wrong key or IV, the details of another recording, or a
/// modified or truncated file. Any plaintext already produced must be discarded.
/// </summary>
public sealed class AuthenticationFailedException : RecordingCryptoException
{
    /// <summary>Creates the exception with the standard message.</summary>
    public AuthenticationFailedException()
        : base("authentication failed: the recording's AES-GCM tag does not verify, so its content cannot be trusted and nothing was written")
    {
        Hint = "check that the details (CEK and IV) belong to this recording and that the file is complete and unmodified (was the download cut short?)";
    }

    private AuthenticationFailedException(string message, string hint) : base(message)
    {
        Hint = hint;
    }

    internal static AuthenticationFailedException TooShort(long length) => new(
        $"authentication failed: the encrypted recording is {length} bytes, shorter than its {RecordingFormat.TagSize}-byte GCM tag",
        "the file is truncated or empty; download it again");
}

/// <summary>A key file could not be used: the message names what was found and what is needed.</summary>
public sealed class KeyFormatException : RecordingCryptoException
{
    /// <summary>Creates the exception.</summary>
    public KeyFormatException(string message, string? hint = null, Exception? inner = null) : base(message, inner)
    {
        Hint = hint;
    }
}

/// <summary>The private key does not unwrap the content key: it is not the key the recording was encrypted to.</summary>
public sealed class KeyMismatchException : RecordingCryptoException
{
    /// <summary>Creates the exception.</summary>
    public KeyMismatchException(string message, string? hint = null) : base(message)
    {
        Hint = hint;
    }
}

/// <summary>Encryption details that cannot be read: not JSON, not rsa-aes, missing or malformed fields.</summary>
public sealed class EncryptionDetailsException : RecordingCryptoException
{
    /// <summary>Creates the exception.</summary>
    public EncryptionDetailsException(string message, string? hint = null, Exception? inner = null) : base(message, inner)
    {
        Hint = hint;
    }
}

/// <summary>The recording has no encryption details (<c>encryption_details</c> is null): there is nothing to decrypt.</summary>
public sealed class RecordingNotEncryptedException : RecordingCryptoException
{
    /// <summary>Creates the exception.</summary>
    public RecordingNotEncryptedException(string message) : base(message)
    {
        Hint = "there is nothing to decrypt: use the media as it is";
    }
}
