using VoiceVault.Server;

// A start that fails is said in two lines below; the host would first log it with its stack trace
// (HostedServiceStartupFaulted), so its errors wait until the vault has started.
bool started = false;
WebApplication app;
try
{
    if (VaultCommands.IsCommand(args))
    {
        return await VaultCommands.RunAsync(args);
    }
    app = VaultApp.Build(args, builder => builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host",
        level => level >= LogLevel.Information && (started || level < LogLevel.Error)));
    await VaultApp.BootstrapAsync(app);
    await app.StartAsync();
    started = true;
}
catch (Exception e) when (StartupFailure.Explain(e) is not null)
{
    return StartupFailure.Report(e, Console.Error);
}
await app.WaitForShutdownAsync();
return 0;
