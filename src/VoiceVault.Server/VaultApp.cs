using OpenTelemetry.Metrics;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceVault.Server.Api.Accounts;
using VoiceVault.Server.Api;
using VoiceVault.Server.Core;
using VoiceVault.Server.Api.Credentials;
using VoiceVault.Server.Api.Ingest;
using VoiceVault.Server.Live;
using VoiceVault.Server.Api.Notifications;
using VoiceVault.Server.Api.Audit;
using VoiceVault.Server.Operations;
using VoiceVault.Server.Api.Recordings;
using VoiceVault.Server.Storage.Files;
using VoiceVault.Server.Storage.Postgres;
using VoiceVault.Server.Storage.S3;
using VoiceVault.Server.Storage.Sql;
using VoiceVault.Server.Storage.Sqlite;
using VoiceVault.Server.Webhooks;
using VoiceVault.Server.WebConsole;

namespace VoiceVault.Server;

/// <summary>Builds the vault: services, the middleware order, and every resource's endpoints.</summary>
public static class VaultApp
{
    /// <summary>Proxies (addresses or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are believed.</summary>
    public const string TrustedProxiesKey = "VoiceVault:TrustedProxies";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // No configuration file watcher: it watches the content root recursively, which holds
        // ./data by default, and would wake on every media write (measured: ~5 % of the CPU at
        // 100 uploads/s). Configuration is read once at start; restart to change it.
        var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        // Log defaults, under every other source so that configuration can change them: no request
        // line with its query at Information (ASP.NET Core's hosting log writes both, and a query may
        // carry a callback URL with credentials), and HttpClient's own per-request lines (the full
        // URL of every callback, at Information) kept quiet.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
                ["Logging:LogLevel:Microsoft.Extensions.Http"] = "Warning",
                // Nothing of the vault uses ASP.NET Core's Data Protection (sessions and CSRF tokens are
                // its own); its start-up warnings about an unpersisted key ring would only mislead.
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            },
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }
        configure?.Invoke(builder);

        var options = Bind<VaultOptions>(builder.Configuration, VaultOptions.Section);
        options.DataDir = Path.GetFullPath(options.DataDir, builder.Environment.ContentRootPath);
        options.Audit.Validate();
        if (!Directory.Exists(options.DataDir))
        {
            // Only the service's own user may look inside: sealed tokens, wrapped keys, ciphertext.
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(options.DataDir);
            }
            else
            {
                Directory.CreateDirectory(options.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(Options.Create(options));
        // The clock; a test that lets days pass gives its own first.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<VaultMetrics>();
        // /metrics: the vault's meter and the framework's (requests, connections, outgoing HTTP,
        // the database client, the runtime), in Prometheus' text format.
        var meters = new OwnMeters();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(VaultMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "Npgsql", "System.Runtime")
            .AddView(meters.StreamOf)
            .AddPrometheusExporter());
        builder.Services.AddSingleton(MasterKey.Load(options));
        AddStorage(builder, options);
        builder.Services.AddSingleton<AccountDirectory>();
        builder.Services.AddSingleton<TwilioLinks>();
        builder.Services.AddSingleton<EncryptionSettings>();
        builder.Services.AddSingleton<CallbackUrlSeal>();
        builder.Services.AddSingleton<AuditTrail>();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FailedAuthentications>());
        builder.Services.AddSingleton<AuditSigner>();
        builder.Services.AddSingleton<AuditCheckpoints>();
        builder.Services.AddSingleton<IAuditWitness, AuditWitness>();
        builder.Services.AddSingleton<AuditCheckpointer>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AuditCheckpointer>());
        var witnessAddresses = new CallbackAddresses(ConfiguredNetworks.Read(builder.Configuration, AuditWitness.AllowedNetworksKey), AuditWitness.AllowedNetworksKey);
        builder.Services.AddHttpClient(AuditWitness.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(witnessAddresses.Handler);
        builder.Services.AddSingleton<RecordingLifecycle>();
        builder.Services.AddSingleton<CallbackDispatcher>();
        builder.Services.AddSingleton<ICallbackSender>(services => services.GetRequiredService<CallbackDispatcher>());
        builder.Services.AddSingleton<LiveRecordingServices>();
        builder.Services.AddSingleton<LiveCalls>();
        builder.Services.AddSingleton<CallControlRouting>();
        builder.Services.AddHttpClient(CallControlRouting.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, UseCookies = false });
        builder.Services.AddHostedService(services => services.GetRequiredService<CallbackDispatcher>());
        builder.Services.AddSingleton<InstanceLease>();
        builder.Services.AddHostedService(services => services.GetRequiredService<InstanceLease>());
        // Callbacks go where account holders say, so only to addresses the vault may call, never
        // through a proxy, never after a redirect; the receiver's answer is judged by its status.
        var callbackAddresses = CallbackAddresses.From(builder.Configuration);
        builder.Services.AddSingleton(callbackAddresses);
        builder.Services.AddHttpClient(nameof(CallbackDispatcher), http => http.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(callbackAddresses.Handler);
        var consoleOptions = Bind<ConsoleOptions>(builder.Configuration, VaultOptions.Section + ":Console");
        consoleOptions.Validate();
        builder.Services.AddSingleton(consoleOptions);
        builder.Services.AddSingleton<ConsoleSessions>();
        builder.Services.AddSingleton<AuthenticationThrottle>();
        builder.Services.AddAuthentication(BasicAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BasicAuthenticationHandler>(BasicAuthenticationHandler.SchemeName, null)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, SessionAuthenticationHandler>(SessionAuthenticationHandler.SchemeName, null)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, StreamSignatureAuthenticationHandler>(StreamSignatureAuthenticationHandler.SchemeName, null);
        // Every endpoint needs Basic credentials (or the console's session, which stands for them)
        // unless it says otherwise: a new one is never open by mistake.
        string[] apiSchemes = consoleOptions.Enabled ? [BasicAuthenticationHandler.SchemeName, SessionAuthenticationHandler.SchemeName] : [BasicAuthenticationHandler.SchemeName];
        builder.Services.AddAuthorizationBuilder().SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(apiSchemes)
            .RequireAuthenticatedUser().Build());
        // Twilio's names (snake_case) from build-time generated serializers.
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            // Numbers are numbers: the API writes JSON and reads only forms.
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, TwilioJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, ConsoleJson.Default);
        });
        builder.Services.AddOpenApi(openApi =>
        {
            openApi.CreateSchemaReferenceId = Schemas.ReferenceId;
            openApi.AddSchemaTransformer<Schemas>();
            openApi.AddDocumentTransformer<OpenApiDescription>();
            openApi.AddOperationTransformer<OpenApiDescription>();
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Small bodies everywhere but the upload endpoint (its own limit: MaxUploadBytes); the
            // header limits are Kestrel's (32 KiB, 100 headers); slow clients are cut off.
            var limits = options.Limits;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersTimeoutSeconds);
            kestrel.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5));
            kestrel.AddServerHeader = false;
        });
        VaultTls.Configure(builder);

        var trustedProxies = ConfiguredNetworks.Read(builder.Configuration, TrustedProxiesKey);
        var app = builder.Build();
        meters.Factory = app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        if (trustedProxies.Count > 0)
        {
            // The client's address (for the failed-authentication limits) and scheme come from
            // X-Forwarded-For/-Proto only when the connection is from a proxy named as trusted;
            // from anyone else those headers are ignored.
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto,
                ForwardLimit = 1,
            };
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var network in trustedProxies)
            {
                forwarded.KnownIPNetworks.Add(network);
            }
            app.UseForwardedHeaders(forwarded);
        }
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.UseMiddleware<ApiErrorMiddleware>();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAuditorScope();
        app.UseAccountLimits(options.Limits);
        app.UseMiddleware<CsrfMiddleware>();
        app.UseMiddleware<FormBodyMiddleware>();
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResource("ok"))).ExcludeFromDescription().AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        app.MapOpenApi("/openapi/v1.json").AllowAnonymous();
        // Every API route may answer Twilio's error object (one writer: ApiErrorMiddleware).
        // Forms are bound from records; cross-site requests are the console's CSRF check's job, not antiforgery tokens'.
        var api = FormBodyMiddleware.ReadFormsHere(app.MapGroup("").DisableAntiforgery());
        foreach (var status in new[] { 400, 401, 404 })
        {
            api.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ApiError), ["application/json"]));
        }
        api.MapAccountEndpoints();
        api.MapPublicKeyEndpoints();
        api.MapTwilioLinkEndpoints();
        api.MapRecordingEncryptionEndpoints();
        api.MapRecordingEndpoints();
        api.MapRecordingWrapEndpoints();
        api.MapNotificationEndpoints();
        api.MapAuditEndpoints();
        api.MapUploadEndpoints();
        app.MapMediaStreamEndpoint();
        api.MapCallRecordingEndpoints();
        if (consoleOptions.Enabled)
        {
            app.MapConsoleEndpoints();
        }
        return app;
    }

    /// <summary>A settings section as its type; a value of the wrong type is a start-up error that names the setting.</summary>
    private static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the setting and the value ("Failed to convert configuration value 'x' at 'VoiceVault:…'").
            throw new StartupException(e.InnerException is { } inner ? $"{e.Message}: {inner.Message}" : e.Message,
                "correct the setting named above; docs/operations.md lists every setting and its form", e);
        }
    }

    // What /metrics serves: only this vault's meters (a process may host other apps — tests do —
    // whose meters have the same names), and outgoing requests without their hosts and ports:
    // those are callbacks to URLs tenants chose, and tenant data stays out of /metrics.
    private sealed class OwnMeters
    {
        public System.Diagnostics.Metrics.IMeterFactory? Factory { get; set; }

        public MetricStreamConfiguration? StreamOf(System.Diagnostics.Metrics.Instrument instrument) =>
            instrument.Meter.Scope is { } scope && !ReferenceEquals(scope, Factory) ? MetricStreamConfiguration.Drop
            : instrument.Meter.Name == "System.Net.Http"
                ? new MetricStreamConfiguration { TagKeys = ["http.request.method", "http.response.status_code", "error.type", "network.protocol.version", "url.scheme", "http.connection.state"] }
                : null;
    }

    /// <summary>The metadata backend (docs/api.md §11: <c>VoiceVault:Database</c>) with its stores, and the media store.</summary>
    private static void AddStorage(WebApplicationBuilder builder, VaultOptions options)
    {
        var services = builder.Services;
        switch (options.Database)
        {
            case "sqlite":
                services.AddSingleton<IVaultDatabase, SqliteVaultDatabase>();
                services.AddSingleton<IClusterSignals, FileSignals>();
                services.AddSingleton<ILimitStore, LocalLimits>();
                break;
            case "postgres":
                var connectionString = builder.Configuration.GetConnectionString("VoiceVault") ?? "";
                services.AddSingleton<IVaultDatabase>(_ => new PostgresVaultDatabase(connectionString));
                services.AddSingleton(p => new PostgresSignals(connectionString, p.GetRequiredService<ILogger<PostgresSignals>>()));
                services.AddSingleton<IClusterSignals>(p => p.GetRequiredService<PostgresSignals>());
                services.AddHostedService(p => p.GetRequiredService<PostgresSignals>());
                services.AddSingleton<PostgresLimits>();
                services.AddSingleton<ILimitStore>(p => p.GetRequiredService<PostgresLimits>());
                services.AddHostedService(p => p.GetRequiredService<PostgresLimits>());
                break;
            default:
                throw new StartupException($"VoiceVault:Database '{options.Database}' is not a backend", "use sqlite (the default) or postgres");
        }
        services.AddSingleton<IAccountStore, SqlAccountStore>();
        services.AddSingleton<IPublicKeyStore, SqlPublicKeyStore>();
        services.AddSingleton<IRecordingStore, SqlRecordingStore>();
        services.AddSingleton<INotificationStore, SqlNotificationStore>();
        services.AddSingleton<ITwilioLinkStore, SqlTwilioLinkStore>();
        services.AddSingleton<IOutboxStore, SqlOutboxStore>();
        services.AddSingleton<IInstanceStore, SqlInstanceStore>();
        services.AddSingleton<IConsoleSessionStore, SqlConsoleSessionStore>();
        services.AddSingleton<IAuditStore, SqlAuditStore>();
        // A host (or a test injecting faults) may bring its own media store.
        switch (options.Media)
        {
            case "files":
                services.TryAddSingleton<IMediaStore, FileMediaStore>();
                break;
            case "s3":
                services.TryAddSingleton<IMediaStore>(_ => new S3MediaStore(options.S3));
                break;
            default:
                throw new StartupException($"VoiceVault:Media '{options.Media}' is not a media store", "use files (the default) or s3");
        }
    }

    /// <summary>
    /// Before serving: ends what a previous run of this instance, or a dead instance, left unfinished
    /// (the recordings fail with their callbacks; see <see cref="InstanceLease"/>), and on first
    /// start creates the main account.
    /// </summary>
    public static async Task BootstrapAsync(WebApplication app)
    {
        await app.Services.GetRequiredService<IVaultDatabase>().MigrateAsync();
        await app.Services.GetRequiredService<IMediaStore>().PrepareAsync();
        // Made now, not at the first call: its gauge of active calls reads 0 from the start.
        _ = app.Services.GetRequiredService<LiveCalls>();
        await app.Services.GetRequiredService<InstanceLease>().RecoverAtStartAsync();
        var accounts = app.Services.GetRequiredService<AccountDirectory>();
        if (await accounts.Store.AnyAsync())
        {
            return;
        }
        var options = app.Services.GetRequiredService<VaultOptions>();
        var sid = options.Bootstrap.AccountSid;
        if (sid is not null && !Sid.Is(sid, "AC"))
        {
            throw new StartupException($"VoiceVault:Bootstrap:AccountSid '{sid}' is not an account SID", "give AC followed by 32 lower-case hex digits, or leave it out for a random one");
        }
        var (account, token) = await accounts.CreateAsync(null, "Main account", Actor.System, sid, options.Bootstrap.AuthToken);
        if (options.Bootstrap.AuthToken is null)
        {
            // Printed once, to the console only: the token is not in the logs and cannot be shown again.
            Console.WriteLine($"""

                VoiceVault created the main account. Keep these credentials; they are not shown again.
                  AccountSid: {account.Sid}
                  AuthToken:  {token}

                """);
        }
        else
        {
            Console.WriteLine($"VoiceVault created the main account {account.Sid} with the configured token.");
        }
    }
}
