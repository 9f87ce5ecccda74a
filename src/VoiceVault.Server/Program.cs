using VoiceVault.Server;

if (VaultCommands.IsCommand(args))
{
    return await VaultCommands.RunAsync(args);
}
var app = VaultApp.Build(args);
await VaultApp.BootstrapAsync(app);
await app.RunAsync();
return 0;
