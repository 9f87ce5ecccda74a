using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VoiceVault.Cli.Tests;

public sealed class DecryptTests : CliTest
{
    private const int Body = 3 * 1024 * 1024;

    private (string Wav, string Enc, string Details) Encrypted(string name = "call", int body = Body)
    {
        if (!File.Exists(P("k.pem")))
        {
            Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        }
        // A seed from the name that is the same in every run (string.GetHashCode is not).
        var wav = Wav(name + ".wav", body, seed: BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name))));
        Vv("encrypt", wav, "--public-key", P("k.pub"), "-o", P(name + ".enc"), "--details-out", P(name + ".json")).Ok();
        return (wav, P(name + ".enc"), P(name + ".json"));
    }

    public static TheoryData<string> Tampering => new(
        "flip-header", "flip-middle", "flip-last-block", "flip-tag", "truncate-1", "truncate-17", "extra-byte",
        "wrong-iv", "wrong-key", "other-recordings-details");

    [Theory]
    [MemberData(nameof(Tampering))]
    public void Tampered_recordings_fail_clearly_and_leave_no_output_and_no_temporary_file(string tamper)
    {
        var (_, enc, details) = Encrypted();
        var (_, _, otherDetails) = Encrypted("other", 1000);
        var bytes = File.ReadAllBytes(enc);
        var key = P("k.pem");
        switch (tamper)
        {
            case "flip-header": bytes[10] ^= 1; break;
            case "flip-middle": bytes[Body / 2] ^= 0x40; break;
            case "flip-last-block": bytes[^20] ^= 2; break;
            case "flip-tag": bytes[^1] ^= 1; break;
            case "truncate-1": bytes = bytes[..^1]; break;
            case "truncate-17": bytes = bytes[..^17]; break;
            case "extra-byte": bytes = [.. bytes, 7]; break;
            case "wrong-iv":
                var json = JsonNode.Parse(File.ReadAllText(details))!;
                var wrongIv = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12));
                json["iv"] = wrongIv;
                json["encryption_iv"] = wrongIv;
                File.WriteAllText(details, json.ToJsonString());
                break;
            case "wrong-key":
                Vv("keygen", "--out", P("wrong.pem"), "--bits", "2048").Ok();
                key = P("wrong.pem");
                break;
            case "other-recordings-details":
                details = otherDetails;
                break;
        }
        File.WriteAllBytes(enc, bytes);
        var before = Listing();

        var run = Vv("decrypt", enc, "--key", key, "--details", details, "-o", P("out.wav"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint: ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(tamper == "wrong-key" ? "not the key the recording was encrypted to" : "authentication failed", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Listing());
        Assert.Empty(Directory.GetFiles(Dir, "*.partial", new EnumerationOptions { AttributesToSkip = 0 }));
    }

    [Fact]
    public async Task Ctrl_C_stops_a_decrypt_and_removes_its_temporary_file()
    {
        var (_, enc, details) = Encrypted("long", 64 << 20);
        // The recording arrives through standard input at the test's pace, so the decrypt cannot
        // finish before it is interrupted, however fast the machine.
        // Started with SIGINT's default action: a test run from a background job of a shell without
        // job control inherits SIGINT ignored, and an ignored signal stays ignored across exec.
        var start = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = Dir };
        foreach (var arg in new[] { "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])",
            "dotnet", Path.Combine(AppContext.BaseDirectory, "voicevault.dll"), "decrypt", "-", "--key", P("k.pem"), "--details", details, "-o", P("out.wav") })
        {
            start.ArgumentList.Add(arg);
        }
        var hidden = new EnumerationOptions { AttributesToSkip = 0 };
        using var created = new ManualResetEventSlim();
        using var watcher = new FileSystemWatcher(Dir, "*.partial") { EnableRaisingEvents = true };
        watcher.Created += (_, _) => created.Set();
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        var ciphertext = File.ReadAllBytes(enc);
        var stdin = process.StandardInput.BaseStream;
        stdin.Write(ciphertext, 0, 4 << 20);
        stdin.Flush();
        // Interrupted once its temporary output exists (a watcher sees it being created), with most of the input still to come.
        Assert.True(created.Wait(TimeSpan.FromSeconds(30)) || Directory.GetFiles(Dir, "*.partial", hidden).Length > 0, "no temporary output appeared");
        Tools.Exec("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], Dir).Ok();
        try
        {
            // The rest, a piece at a time: the decrypt must stop at its next piece, not read to the end.
            for (int offset = 4 << 20; offset < ciphertext.Length; offset += 64 << 10)
            {
                stdin.Write(ciphertext, offset, Math.Min(64 << 10, ciphertext.Length - offset));
                stdin.Flush();
            }
            stdin.Close();
        }
        catch (IOException)
        {
            // It stopped reading: the pipe is closed.
        }
        var stderr = await stderrTask;
        await process.WaitForExitAsync();

        Assert.Equal(130, process.ExitCode);
        Assert.Contains("error: interrupted", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Dir, "*.partial", hidden));
        Assert.False(File.Exists(P("out.wav")));
    }

    [Fact]
    public void A_failed_decrypt_leaves_an_existing_target_untouched()
    {
        var (_, enc, details) = Encrypted();
        File.WriteAllText(P("out.wav"), "previous result");
        var bytes = File.ReadAllBytes(enc);
        bytes[^5] ^= 1;
        File.WriteAllBytes(enc, bytes);
        Vv("decrypt", enc, "--key", P("k.pem"), "--details", details, "-o", P("out.wav")).Failed("authentication failed");
        Assert.Equal("previous result", File.ReadAllText(P("out.wav")));
    }

    [Fact]
    public void Output_is_created_0600_via_a_temporary_file_and_matches()
    {
        var (wav, enc, details) = Encrypted();
        var run = Vv("decrypt", enc, "--key", P("k.pem"), "--details", details, "-o", P("out.wav"), "--json").Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out.wav")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P("out.wav")));
        var json = JsonDocument.Parse(run.Text).RootElement;
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal(new FileInfo(wav).Length, json.GetProperty("plaintext_bytes").GetInt64());
    }

    [Fact]
    public void Stdout_receives_the_recording_only_after_it_verified()
    {
        var (wav, enc, details) = Encrypted();
        var good = Vv("decrypt", enc, "--key", P("k.pem"), "--details", details, "-o", "-").Ok();
        Assert.Equal(File.ReadAllBytes(wav), good.Stdout);

        var bytes = File.ReadAllBytes(enc);
        bytes[^30] ^= 1;
        File.WriteAllBytes(enc, bytes);
        var bad = Vv("decrypt", enc, "--key", P("k.pem"), "--details", details, "-o", "-").Failed("authentication failed");
        Assert.Empty(bad.Stdout);
    }

    [Fact]
    public void Stdin_input_works_for_both_outputs_and_leaves_no_spool()
    {
        var (wav, enc, details) = Encrypted();
        // A temporary folder of its own: other tests decrypting from stdin at the same time spool into the shared one.
        var temp = Directory.CreateDirectory(P("tmp")).FullName;
        var env = new Dictionary<string, string> { ["TMPDIR"] = temp };
        var piped = Tools.Voicevault(Dir, File.ReadAllBytes(enc), env, "decrypt", "-", "--key", P("k.pem"), "--details", details, "-o", "-").Ok();
        Assert.Equal(File.ReadAllBytes(wav), piped.Stdout);
        Tools.Voicevault(Dir, File.ReadAllBytes(enc), env, "decrypt", "-", "--key", P("k.pem"), "--details", details, "-o", P("out.wav")).Ok();
        Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out.wav")));
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public void Every_details_container_works_on_the_command_line()
    {
        var (wav, enc, details) = Encrypted();
        var rest = JsonNode.Parse(File.ReadAllText(details))!;
        var callback = new JsonObject
        {
            ["type"] = "rsa-aes",
            ["public_key_sid"] = rest["encryption_public_key_sid"]!.GetValue<string>(),
            ["encrypted_cek"] = rest["encryption_cek"]!.GetValue<string>(),
            ["iv"] = rest["iv"]!.GetValue<string>(),
        };
        var recording = new JsonObject { ["sid"] = "RE" + new string('a', 32), ["status"] = "completed", ["encryption_details"] = rest.DeepClone() };
        File.WriteAllText(P("recording.json"), recording.ToJsonString());
        File.WriteAllText(P("callback.json"), callback.ToJsonString());
        File.WriteAllText(P("callback-string.json"), JsonSerializer.Serialize(callback.ToJsonString()));
        foreach (var file in new[] { "recording.json", "callback.json", "callback-string.json" })
        {
            Vv("decrypt", enc, "--key", P("k.pem"), "--details", P(file), "-o", P("out.wav")).Ok();
            Assert.Equal(File.ReadAllBytes(wav), File.ReadAllBytes(P("out.wav")));
        }
    }

    [Fact]
    public void Usage_mistakes_are_explained()
    {
        var (_, enc, details) = Encrypted("small", 100);
        Vv("decrypt", enc, "--details", details, "-o", P("o.wav")).Failed("give exactly one of --key PRIVATE.pem or --keyring DIR");
        Vv("decrypt", enc, "--key", P("k.pem"), "-o", P("o.wav")).Failed("give --details FILE, or both --cek and --iv");
        Vv("decrypt", enc, "--key", P("k.pem"), "--details", P("missing.json"), "-o", P("o.wav")).Failed("does not exist");
        Vv("decrypt", enc, "--key", P("k.pub"), "--details", details, "-o", P("o.wav")).Failed("decryption needs the private key");
        Vv("decrypt", enc, "--key", P("k.pem"), "--details", details, "-o", enc).Failed("the output is the input file");
        File.WriteAllText(P("plain.json"), """{"sid":"REx","encryption_details":null}""");
        Vv("decrypt", enc, "--key", P("k.pem"), "--details", P("plain.json"), "-o", P("o.wav")).Failed("is not encrypted");
        Vv("decrypt", enc, "--key", P("k.pem"), "--details", details, "-o", P("no-such-dir/o.wav")).Failed("does not exist");
        Assert.False(File.Exists(P("o.wav")));
    }

    [Fact]
    public void Encrypt_refuses_a_private_key_as_the_public_key()
    {
        Vv("keygen", "--out", P("k.pem"), "--bits", "2048").Ok();
        var wav = Wav("call.wav", 100);
        Vv("encrypt", wav, "--public-key", P("k.pem"), "-o", P("call.enc")).Failed("this is a PRIVATE key");
        Assert.False(File.Exists(P("call.enc")));
    }

    [Fact]
    public void A_recording_over_2GiB_round_trips_through_the_cli()
    {
        const long size = (2L << 30) + 123;
        Vv("keygen", "--out", P("k.pem"), "--public-out", P("k.pub"), "--bits", "2048").Ok();
        var plain = P("big.wav");
        byte[] expected;
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        using (var file = new FileStream(plain, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var block = new byte[1 << 20];
            new Random(5).NextBytes(block);
            for (long written = 0; written < size;)
            {
                int n = (int)Math.Min(block.Length, size - written);
                block[0] = (byte)(written >> 20);
                block[n - 1] = (byte)(written >> 28);
                file.Write(block, 0, n);
                sha.AppendData(block, 0, n);
                written += n;
            }
            expected = sha.GetHashAndReset();
        }
        Vv("encrypt", plain, "--public-key", P("k.pub"), "-o", P("big.enc"), "--quiet").Ok();
        File.Delete(plain);
        Assert.Equal(size + 16, new FileInfo(P("big.enc")).Length);
        var run = Vv("decrypt", P("big.enc"), "--key", P("k.pem"), "--details", P("big.enc.json"), "-o", P("big.out"));
        run.Ok();
        // Not a terminal: progress comes as plain lines.
        Assert.Contains("decrypt: 50%", run.Stderr, StringComparison.Ordinal);
        using var stream = File.OpenRead(P("big.out"));
        Assert.Equal(expected, SHA256.HashData(stream));
    }
}
