using VoiceVault.Server;

var app = VaultApp.Build(args);
await VaultApp.BootstrapAsync(app);
await app.RunAsync();
