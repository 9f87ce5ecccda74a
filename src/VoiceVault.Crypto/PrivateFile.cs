namespace VoiceVault.Crypto;

/// <summary>Files that hold secrets: created with mode 0600 from the start, never widened later.</summary>
internal static class PrivateFile
{
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Writes through a 0600 temporary file and a rename, so a reader never sees half a key.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var stream = OpenNew(temp))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public static FileStream OpenNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Mode;
        }
        return new FileStream(path, options);
    }
}
