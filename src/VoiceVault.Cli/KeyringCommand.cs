using System.CommandLine;
using VoiceVault.Crypto;

namespace VoiceVault.Cli;

internal static class KeyringCommand
{
    public static Command Create()
    {
        var command = new Command("keyring", "Manage a keyring directory: private keys filed by public-key SID, so rotated keys keep working.");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Add()
    {
        var directory = new Option<DirectoryInfo>("--keyring") { Description = "The keyring directory (created if missing, mode 0700).", Required = true };
        var keyFile = new Argument<string>("KEY") { Description = "The private key file to add, or the PKCS#11 URI of a key in a token (the keyring keeps the URI, never the PIN)." };
        var sid = new Option<string?>("--sid") { Description = "The CR… SID of its public key credential (default: the key's local SID)." };
        var passphraseFile = Options.PassphraseFile();
        var command = new Command("add", "Add a private key to a keyring.") { directory, keyFile, sid, passphraseFile };
        command.SetAction(parse => Program.Guard(() =>
        {
            var keyring = Keyring.Open(parse.GetValue(directory)!.FullName, Passphrase.Source(parse.GetValue(passphraseFile)), create: true);
            var key = parse.GetValue(keyFile)!;
            var entry = Pkcs11Uri.Looks(key)
                ? keyring.AddToken(key, parse.GetValue(sid))
                : keyring.Add(Program.ReadInput(Path.GetFullPath(key), "key file"), parse.GetValue(sid));
            Console.Error.WriteLine($"added {entry.Sid} ({entry.Fingerprint}) as {Path.Combine(keyring.Directory, entry.File)}");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var directory = new Option<DirectoryInfo>("--keyring") { Description = "The keyring directory.", Required = true };
        var json = Options.Json();
        var command = new Command("list", "List the keys of a keyring.") { directory, json };
        command.SetAction(parse => Program.Guard(() =>
        {
            var keyring = Keyring.Open(parse.GetValue(directory)!.FullName, Passphrase.Source(null));
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(CliJson.Serialize(keyring.Entries.Select(e => new Dictionary<string, object?> { ["sid"] = e.Sid, ["fingerprint"] = e.Fingerprint, ["file"] = e.File })));
            }
            else
            {
                foreach (var entry in keyring.Entries)
                {
                    Console.Out.WriteLine($"{entry.Sid}  {entry.Fingerprint}  {entry.File}");
                }
            }
            return 0;
        }));
        return command;
    }
}
