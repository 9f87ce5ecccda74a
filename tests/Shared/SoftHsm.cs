using System.Diagnostics;
using System.Security.Cryptography;

namespace VoiceVault.Tests.Shared;

/// <summary>
/// A throwaway SoftHSM2 token store (linked into each test project that needs one): its own
/// directory and configuration file, tokens initialised by <c>softhsm2-util</c> with PINs made
/// up per run, and the environment a <c>voicevault</c> process needs to use them. scripts/test.sh
/// installs Debian's softhsm2; without it every test that needs a token fails and says so.
/// </summary>
internal sealed class SoftHsm : IDisposable
{
    private static readonly Lazy<SoftHsm> InProcess = new(() =>
    {
        // SoftHSM2 sees the tokens that exist when a process initialises it, so this process's
        // tokens are made first and handed out one per test.
        var store = new SoftHsm();
        for (int i = 1; i <= 16; i++)
        {
            store._spare.Enqueue(store.Token($"token{i}"));
        }
        // SoftHSM2 reads its configuration once, when this process first initialises the module.
        foreach (var (name, value) in store.Environment())
        {
            System.Environment.SetEnvironmentVariable(name, value);
        }
        // The module is C: it reads the process's native environment, which .NET's setter leaves alone.
        if (setenv("SOFTHSM2_CONF", store.Config, 1) != 0)
        {
            throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed");
        }
        // The module keeps it open until the process ends; then nothing of it is left behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => store.Dispose();
        return store;
    });

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    public SoftHsm()
    {
        if (!File.Exists(Module))
        {
            throw new InvalidOperationException($"SoftHSM2's PKCS#11 module '{Module}' is missing: install Debian's softhsm2 (scripts/test.sh does), or set VOICEVAULT_TEST_PKCS11_MODULE");
        }
        Directory = System.IO.Directory.CreateTempSubdirectory("vv-softhsm-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "tokens"));
        Config = Path.Combine(Directory, "softhsm2.conf");
        File.WriteAllText(Config, $"directories.tokendir = {Path.Combine(Directory, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
    }

    /// <summary>The token store this test process itself loads the module with (SOFTHSM2_CONF is set for it).</summary>
    public static SoftHsm Shared => InProcess.Value;

    public static string Module => System.Environment.GetEnvironmentVariable("VOICEVAULT_TEST_PKCS11_MODULE") ?? "/usr/lib/softhsm/libsofthsm2.so";

    public string Directory { get; }

    public string Config { get; }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _spare = new();

    /// <summary>A token of <see cref="Shared"/> that no other test uses.</summary>
    public string TakeToken() => _spare.TryDequeue(out var label) ? label : throw new InvalidOperationException("the shared token store has no token left: make more in SoftHsm");

    /// <summary>The user PIN every token of this store gets.</summary>
    public string Pin { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Initialises a new token labelled <paramref name="label"/> in a free slot.</summary>
    public string Token(string label)
    {
        Run("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", Pin, "--so-pin", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        return label;
    }

    /// <summary>What a process needs to use this store: the module, the configuration, the PIN; OAEP on the host (SoftHSM2 2.6 has OAEP with SHA-1 only).</summary>
    public Dictionary<string, string> Environment(string? pin = null) => new()
    {
        ["SOFTHSM2_CONF"] = Config,
        ["VOICEVAULT_PKCS11_MODULE"] = Module,
        ["VOICEVAULT_PKCS11_PIN"] = pin ?? Pin,
        ["VOICEVAULT_PKCS11_OAEP"] = "host",
    };

    /// <summary>Reads a variable as a process given <see cref="Environment(string?)"/> would.</summary>
    public Func<string, string?> Variables(string? pin = null, bool hostOaep = true)
    {
        var variables = Environment(pin);
        if (!hostOaep)
        {
            variables.Remove("VOICEVAULT_PKCS11_OAEP");
        }
        return name => variables.GetValueOrDefault(name);
    }

    /// <summary>Runs a tool against this store (pkcs11-tool, softhsm2-util); its output.</summary>
    public string Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["SOFTHSM2_CONF"] = Config;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}");
        }
        return output + error.Result;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
