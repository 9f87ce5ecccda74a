using System.Security.Cryptography;

namespace VoiceVault.Crypto;

/// <summary>
/// Zeroes buffers that held plaintext or key bytes once they are done with. Tests watch each
/// wiped buffer through <see cref="Observer"/> (async-local: a test sees only the wipes of its
/// own flow), so that a wipe left out or made ineffective fails a test.
/// </summary>
internal static class Wipe
{
    internal static readonly AsyncLocal<Action<string, byte[]>?> Observer = new();

    /// <summary>Zeroes <paramref name="buffer"/>; <paramref name="what"/> names it for the observer.</summary>
    public static void Buffer(byte[] buffer, string what)
    {
        CryptographicOperations.ZeroMemory(buffer);
        Observer.Value?.Invoke(what, buffer);
    }
}
