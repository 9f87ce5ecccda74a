"""Hand mutations of the vault's guarantees: each breaks one on purpose, runs the tests that
should notice, and reports whether they did. Run through scripts/hand-mutations.sh, which gives
this a throwaway copy of the tree. Every mutation must be caught."""
import subprocess, sys, time

S, C = "tests/VoiceVault.Server.Tests", "tests/VoiceVault.Crypto.Tests"
SRV, CRY = "src/VoiceVault.Server/", "src/VoiceVault.Crypto/"

# (guarantee broken, [(file, original, replacement)], test project, test filter)
MUTATIONS = [
    ("server-managed CEK stored unsealed (sealed nowhere, opened nowhere)",
     [(SRV + "Core/EncryptionPlan.cs", "masterKey.Seal(cek.Bytes, recording.Sid)", "cek.Bytes.ToArray()"),
      (SRV + "Api/Recordings/RecordingEndpoints.cs", "ContentKey.FromBytes(masterKey.Open(recording.ServerCekSealed!, recording.Sid))", "ContentKey.FromBytes(recording.ServerCekSealed!)")],
     S, "FullyQualifiedName~Server.Tests.GuaranteeTests"),
    ("auth tokens and API key secrets stored unsealed (sealed nowhere, opened nowhere)",
     [(SRV + "Core/AccountDirectory.cs", "_masterKey.Seal(Encoding.UTF8.GetBytes(token), sid)", "Encoding.UTF8.GetBytes(token)"),
      (SRV + "Core/AccountDirectory.cs", "Encoding.UTF8.GetString(_masterKey.Open(account.TokenSealed, account.Sid))", "Encoding.UTF8.GetString(account.TokenSealed)"),
      (SRV + "Core/AccountDirectory.cs", "Matches(_masterKey.Open(account.TokenSealed, account.Sid), secret)", "Matches((byte[])account.TokenSealed.Clone(), secret)"),
      (SRV + "Core/AccountDirectory.cs", "_masterKey.Seal(Encoding.UTF8.GetBytes(secret), sid)", "Encoding.UTF8.GetBytes(secret)"),
      (SRV + "Core/AccountDirectory.cs", "Matches(_masterKey.Open(key.SecretSealed, user), secret)", "Matches((byte[])key.SecretSealed.Clone(), secret)")],
     S, "FullyQualifiedName~Server.Tests.GuaranteeTests"),
    ("Twilio link tokens stored unsealed",
     [(SRV + "Core/TwilioLinks.cs", "masterKey.Seal(Encoding.UTF8.GetBytes(token), Context(accountSid, slot))", "Encoding.UTF8.GetBytes(token)"),
      (SRV + "Core/TwilioLinks.cs", "masterKey.Open(sealedToken, Context(link.AccountSid, slot))", "(byte[])sealedToken.Clone()")],
     S, "FullyQualifiedName~Server.Tests.GuaranteeTests"),
    ("the pipeline swallows a write error (output cut short, reported as success)",
     [(CRY + "ChunkPipeline.cs", 'throw new IOException($"Writing the output failed: {writeFailure.Message}", writeFailure);', "writeFailure = null;")],
     C, "FullyQualifiedName~Crypto.Tests.GuaranteeTests"),
    ("no ERR_clear_error after a failed OpenSSL decryption",
     [(CRY + "OpenSslGcm.cs", "            Native.ERR_clear_error();\n            throw new AuthenticationFailedException();", "            throw new AuthenticationFailedException();")],
     C, "FullyQualifiedName~Crypto.Tests.GuaranteeTests"),
    ("RecordingEncryptor.Complete() drops the tag",
     [(CRY + "RecordingEncryptor.cs", "        int n = Finish();\n        _destination.Write(_buffer!, 0, n);", "        int n = Finish();\n        _destination.Write(_buffer!, 0, n - RecordingFormat.TagSize);")],
     C, "FullyQualifiedName~Crypto.Tests.GuaranteeTests"),
    ("plaintext and key buffers not zeroed",
     [(CRY + "Wipe.cs", "        CryptographicOperations.ZeroMemory(buffer);\n", "")],
     C, "FullyQualifiedName~Crypto.Tests.GuaranteeTests"),
    ("cancellation ignored (calling-thread decryption)",
     [(CRY + "RecordingDecryptor.cs", "            cancellationToken.ThrowIfCancellationRequested();\n            var space", "            var space")],
     C, "FullyQualifiedName~Crypto.Tests.GuaranteeTests"),
    ("tenant filter dropped",
     [(SRV + "Api/Authentication.cs", "(account.Sid != caller.AccountSid && account.ParentSid != caller.AccountSid)", "false")],
     S, "FullyQualifiedName~TenantIsolationTests"),
    ("callbacks unsigned",
     [(SRV + "Webhooks/CallbackDispatcher.cs", 'request.Headers.Add("X-Twilio-Signature", signature);', "")],
     S, "FullyQualifiedName~CallbackTests"),
    ("callback signature over the wrong URL (GET: without the parameters)",
     [(SRV + "Webhooks/CallbackDispatcher.cs", "signature = TwilioSignature.Sign(token, url, []);", "signature = TwilioSignature.Sign(token, row.Url, []);")],
     S, "FullyQualifiedName~CallbackTests"),
    ("16107 warning skipped",
     [(SRV + "Core/RecordingLifecycle.cs", "var warning = plan.Warning is { } w ? new NewNotification(recording.AccountSid, recording.CallSid, w.Code, NotificationLevel.Warning, w.Message) : null;", "NewNotification? warning = null;")],
     S, "FullyQualifiedName~FailureTests"),
    ("unsigned stream upgrade accepted",
     [(SRV + "Live/StreamAuthentication.cs", "if (!links.Verifies(link, Request.PathBase + Request.Path + Request.QueryString, signature))", "if (signature.Length == 0)")],
     S, "FullyQualifiedName~TwilioLinkTests"),
    ("spools no live instance holds kept at start",
     [(SRV + "Core/InstanceLease.cs", "                    File.Delete(file);\n", "")],
     S, "FullyQualifiedName~LiveCrashTests"),
    ("a dead instance's spool kept when another instance takes its recording over",
     [(SRV + "Core/RecordingLifecycle.cs", "            File.Delete(spool);\n", "")],
     S, "FullyQualifiedName~LiveCrashTests"),
    ("a leftover .partial kept after a failed write",
     [(SRV + "Storage/Files/FileMediaStore.cs", "                File.Delete(temp);\n", "")],
     S, "FullyQualifiedName~FileMediaStoreContract"),
    ("the callback's outbox row written in a transaction of its own",
     [(SRV + "Core/RecordingLifecycle.cs", "return (changed, message is null ? null : await outbox.AddAsync(scope, message, now + CallbackLease, now));",
       "if (message is not null) { _ = database.WriteAsync(s => outbox.AddAsync(s, message, now + CallbackLease, now)); } return (changed, (OutboxMessage?)null);")],
     S, "FullyQualifiedName~Server.Tests.GuaranteeTests"),
    ("tokens compared with a short-circuiting comparison",
     [(SRV + "Core/AccountDirectory.cs", "CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(given))", "expected.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(given))")],
     S, "FullyQualifiedName~Server.Tests.GuaranteeTests"),
    ("recording control not sent on to the instance holding the call",
     [(SRV + "Live/CallControlRouting.cs", "calls.Find(account.Sid, callSid) is not null || context.Request.Headers.ContainsKey(ForwardedHeader)", "true")],
     S, "FullyQualifiedName~ClusterTests"),
    ("a revoked API key not signalled to the other instances",
     [(SRV + "Core/AccountDirectory.cs", "        _verified.Clear();\n        await _signals.SendAsync(IClusterSignals.Credentials);\n        return deleted;", "        _verified.Clear();\n        return deleted;")],
     S, "FullyQualifiedName~ClusterTests"),
    ("a recording still visible after DELETE",
     [(SRV + "Core/RecordingLifecycle.cs", "        await recordings.DeleteAsync(recording.Sid);\n", "")],
     S, "FullyQualifiedName~RecordingTests"),
    ("audit: a media read sends its bytes without its event",
     [(SRV + "Api/Recordings/RecordingEndpoints.cs", "        await audit.RecordAsync(Audited.MediaRead(recording, context.Actor(), offset, count, length));\n", "")],
     S, "FullyQualifiedName~AuditTrailTests"),
    ("audit: a media read's event written after the answer (not awaited)",
     [(SRV + "Api/Recordings/RecordingEndpoints.cs", "        await audit.RecordAsync(Audited.MediaRead(recording, context.Actor(), offset, count, length));", "        _ = audit.RecordAsync(Audited.MediaRead(recording, context.Actor(), offset, count, length));")],
     S, "FullyQualifiedName~AuditTrailTests"),
    ("audit: an event hashed without its previous_hash",
     [(SRV + "Core/Audit.cs", "        Convert.FromHexString(e.PreviousHash).CopyTo(input, 0);\n", "")],
     S, "FullyQualifiedName~AuditTrailTests"),
    ("audit: the events list's account filter dropped (a subaccount sees others' events)",
     [(SRV + "Storage/Sql/SqlAuditStore.cs", 'new StringBuilder("SELECT * FROM audit_events WHERE account_sid = @account");', 'new StringBuilder("SELECT * FROM audit_events WHERE (account_sid = @account OR @account IS NOT NULL)");')],
     S, "FullyQualifiedName~AuditTrailTests"),
    ("audit: an auditor key not held to its scope",
     [(SRV + "VaultApp.cs", "        app.UseAuditorScope();\n", "")],
     S, "FullyQualifiedName~TenantIsolationTests"),
    ("audit: a checkpoint signed over the wrong bytes",
     [(SRV + "Core/AuditCheckpoints.cs", "key.Sign(Encoding.UTF8.GetBytes(AuditSignatures.Canonical(unsigned)))", "key.Sign(Encoding.UTF8.GetBytes(unsigned.Hash))")],
     S, "FullyQualifiedName~AuditCheckpointTests"),
    ("audit verify: a missing event not noticed",
     [("src/VoiceVault.Cli/AuditVerifier.cs", "                    if (sequence > expected)\n", "                    if (sequence > expected && false)\n")],
     S, "FullyQualifiedName~AuditExportTests"),
]


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def main():
    only = sys.argv[1:]
    rows = ["| guarantee broken | tests run | caught? | seconds |", "|---|---|---|---|"]
    missed = 0
    for name, edits, project, test_filter in MUTATIONS:
        if only and not any(o in name for o in only):
            continue
        originals = {}
        for path, old, new in edits:
            text = originals.setdefault(path, open(path).read())
            current = open(path).read()
            if current.count(old) != 1:
                sys.exit(f"mutation '{name}': the text to change is not in {path} exactly once; update scripts/hand_mutations.py")
            open(path, "w").write(current.replace(old, new))
        started = time.time()
        try:
            # A mutation may leave a parameter unread and such: warnings are not what is tested here.
            build = run(["dotnet", "build", project, "-c", "Release", "--nologo", "-v", "quiet", "-p:TreatWarningsAsErrors=false"])
            if build.returncode != 0:
                sys.exit(f"mutation '{name}' does not compile:\n{build.stdout[-2000:]}")
            test = run(["dotnet", "test", project, "-c", "Release", "--no-build", "--filter", test_filter])
            caught = test.returncode != 0
        finally:
            for path, text in originals.items():
                open(path, "w").write(text)
        missed += not caught
        rows.append(f"| {name} | `{test_filter.split('~')[-1]}` | {'yes' if caught else '**NO**'} | {time.time() - started:.0f} |")
        print(rows[-1], flush=True)
    report = "\n".join(rows) + "\n"
    open("hand-mutations.md", "w").write(report)
    print(f"\n{len(rows) - 2 - missed} of {len(rows) - 2} caught")
    sys.exit(1 if missed else 0)


main()
