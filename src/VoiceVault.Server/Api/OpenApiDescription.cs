using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VoiceVault.Server.Api;

/// <summary>
/// What the OpenAPI document cannot learn from the types: Basic auth, the form fields and query
/// parameters an operation reads itself (Twilio's PascalCase names), the raw WAV an upload sends,
/// and the media a recording's URL serves. Resources, lists and errors are described from their
/// records (<see cref="Resources"/>); <see cref="Schemas"/> gives them Twilio's names and marks
/// what is required and what may be null. <c>OpenApiTests</c> checks every documented response
/// against what the API really answers.
/// </summary>
public sealed class OpenApiDescription : IOpenApiDocumentTransformer
{
    private static readonly string[] Paging = ["PageSize", "Page", "PageToken"];
    private static readonly string[] RecordingFilters = ["CallSid", "DateCreated", "DateCreated<", "DateCreated>", "Status", "EncryptionPublicKeySid"];
    private static readonly string[] CallbackQuery = ["RecordingStatusCallback", "RecordingStatusCallbackMethod", "RecordingStatusCallbackEvent", "RecordingChannels", "RecordingTrack"];

    // METHOD path → the form fields and query parameters it reads.
    private static readonly Dictionary<string, (string[] Form, string[] Query)> Operations = new()
    {
        ["POST /2010-04-01/Accounts.json"] = (["FriendlyName"], []),
        ["GET /2010-04-01/Accounts.json"] = ([], [.. Paging, "FriendlyName", "Status"]),
        ["GET /2010-04-01/Accounts/{sid}.json"] = ([], []),
        ["POST /2010-04-01/Accounts/{sid}.json"] = (["FriendlyName", "Status"], []),
        ["POST /2010-04-01/Accounts/{sid}/Keys.json"] = (["FriendlyName"], []),
        ["GET /2010-04-01/Accounts/{sid}/Keys.json"] = ([], Paging),
        ["GET /2010-04-01/Accounts/{sid}/Keys/{keySid}.json"] = ([], []),
        ["DELETE /2010-04-01/Accounts/{sid}/Keys/{keySid}.json"] = ([], []),
        ["POST /v1/Credentials/PublicKeys"] = (["PublicKey", "FriendlyName", "AccountSid"], []),
        ["GET /v1/Credentials/PublicKeys"] = ([], [.. Paging, "AccountSid"]),
        ["GET /v1/Credentials/PublicKeys/{sid}"] = ([], []),
        ["POST /v1/Credentials/PublicKeys/{sid}"] = (["FriendlyName"], []),
        ["DELETE /v1/Credentials/PublicKeys/{sid}"] = ([], []),
        ["GET /2010-04-01/Accounts/{sid}/RecordingEncryption.json"] = ([], []),
        ["POST /2010-04-01/Accounts/{sid}/RecordingEncryption.json"] = (["Enabled", "PublicKeySid"], []),
        ["POST /v1/Accounts/{sid}/TwilioLink"] = (["TwilioAccountSid", "TwilioAuthToken", "TwilioSecondaryAuthToken"], []),
        ["GET /v1/Accounts/{sid}/TwilioLink"] = ([], []),
        ["DELETE /v1/Accounts/{sid}/TwilioLink"] = ([], []),
        ["GET /2010-04-01/Accounts/{sid}/Recordings.json"] = ([], [.. Paging, .. RecordingFilters]),
        ["GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json"] = ([], [.. Paging, "DateCreated", "DateCreated<", "DateCreated>"]),
        ["GET /2010-04-01/Accounts/{sid}/Recordings/{file}"] = ([], []),
        ["GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}"] = ([], []),
        ["DELETE /2010-04-01/Accounts/{sid}/Recordings/{file}"] = ([], []),
        ["DELETE /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}"] = ([], []),
        ["GET /2010-04-01/Accounts/{sid}/Notifications.json"] = ([], [.. Paging, "Log"]),
        ["GET /2010-04-01/Accounts/{sid}/Notifications/{notificationSid}.json"] = ([], []),
        ["PUT /v1/Ingest/Calls/{callSid}/Recording"] = ([], CallbackQuery),
        ["POST /v1/Recordings/{sid}/EncryptionDetails"] = (["PublicKeySid", "EncryptedCek"], []),
        ["GET /v1/Recordings/{sid}/EncryptionDetails"] = ([], []),
        ["POST /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json"] = ([.. CallbackQuery, "Trim"], []),
        ["POST /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}"] = (["Status", "PauseBehavior"], []),
    };

    /// <summary>The operations described here, as "METHOD path" (tests compare them with the routes).</summary>
    internal static IEnumerable<string> DescribedOperations => Operations.Keys;

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "VoiceVault",
            Version = "v1",
            Description = "Twilio-compatible recordings, public-key credentials and recording encryption, plus VoiceVault's ingest. " +
                "Authenticate with HTTP Basic: AccountSid and AuthToken, or an API key's SID and secret.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            ["basic"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "basic", Description = "AccountSid:AuthToken or SK…:secret" },
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("basic", document)] = [] }];
        foreach (var (key, (form, query)) in Operations)
        {
            var (method, path) = (new HttpMethod(key[..key.IndexOf(' ', StringComparison.Ordinal)]), key[(key.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
            if (document.Paths.TryGetValue(path, out var item) && item.Operations is { } operations && operations.TryGetValue(method, out var operation))
            {
                Describe(operation, form, query, path, method, document);
            }
        }
        return Task.CompletedTask;
    }

    private static void Describe(OpenApiOperation operation, string[] form, string[] query, string path, HttpMethod method, OpenApiDocument document)
    {
        operation.Parameters ??= [];
        foreach (var name in query)
        {
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }
        if (form.Length > 0)
        {
            var fields = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>() };
            foreach (var field in form)
            {
                fields.Properties[field] = new OpenApiSchema { Type = JsonSchemaType.String };
            }
            operation.RequestBody = new OpenApiRequestBody { Content = new Dictionary<string, OpenApiMediaType> { ["application/x-www-form-urlencoded"] = new() { Schema = fields } } };
        }
        if (method == HttpMethod.Put)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The recording: a PCM WAV file, streamed; it is encrypted as it arrives.",
                Content = new Dictionary<string, OpenApiMediaType> { ["audio/wav"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } } },
            };
        }
        if (method == HttpMethod.Get && path.EndsWith("/{file}", StringComparison.Ordinal))
        {
            operation.Description = "{file} is RE….json for the resource, RE….wav (or RE… alone) for the audio: ciphertext for a customer-key recording, " +
                "the WAV itself for one under the server-managed key. RE….mp3 of an encrypted recording is refused with 16109.";
            operation.Responses ??= new OpenApiResponses();
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "The recording resource, or its media (with Range support)",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchemaReference("Recording", document) },
                    ["audio/wav"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                    ["application/octet-stream"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "an encrypted recording (rsa-aes)" } },
                },
            };
        }
    }
}

/// <summary>
/// The schemas generated from the resource records, as Twilio names them (<c>RecordingResource</c>
/// → <c>Recording</c>, <c>ApiError</c> → <c>Error</c>). Every property is required — Twilio writes
/// null rather than leave a field out, and the schema says which may be null — except one left out
/// when null (a recording's <c>track</c>, only under a call's path).
/// </summary>
public sealed class Schemas : IOpenApiSchemaTransformer
{
    public static string? ReferenceId(System.Text.Json.Serialization.Metadata.JsonTypeInfo type) => type.Type switch
    {
        var t when t == typeof(ApiError) => "Error",
        var t when t.Namespace == typeof(ApiError).Namespace && t.Name.EndsWith("Resource", StringComparison.Ordinal) => t.Name[..^"Resource".Length],
        _ => OpenApiOptions.CreateDefaultSchemaReferenceId(type),
    };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        // A recording's status is one of the core's words (the console reads them from here).
        if (context.JsonPropertyInfo is { Name: "status", DeclaringType: var declaring } && declaring == typeof(RecordingResource))
        {
            schema.Enum = [.. Core.Spelling.RecordingStatuses.Select(s => (System.Text.Json.Nodes.JsonNode)s.Text)];
            return Task.CompletedTask;
        }
        if (context.JsonPropertyInfo is not null || context.JsonTypeInfo.Type.Namespace != typeof(ApiError).Namespace || schema.Properties is null)
        {
            return Task.CompletedTask;
        }
        schema.Required ??= new HashSet<string>();
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            var ignore = property.AttributeProvider?.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), inherit: true)
                .OfType<System.Text.Json.Serialization.JsonIgnoreAttribute>().FirstOrDefault();
            if (ignore?.Condition == System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)
            {
                schema.Required.Remove(property.Name);
            }
            else
            {
                schema.Required.Add(property.Name);
            }
        }
        return Task.CompletedTask;
    }
}
