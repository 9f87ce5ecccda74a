using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VoiceVault.Server.Api;

/// <summary>
/// What the OpenAPI document cannot learn from the types: Basic auth, the raw WAV an upload sends,
/// the media a recording's URL serves, and that forms are Twilio's urlencoded ones. Every query and
/// form parameter comes from the request records the handlers bind (<c>[AsParameters]</c> with
/// <c>[FromQuery]</c>/<c>[FromForm]</c> under Twilio's names); resources, lists and errors from their
/// records (<see cref="Resources"/>); <see cref="Schemas"/> gives them Twilio's names and marks what
/// is required and what may be null. <c>OpenApiTests</c> checks every documented response against
/// what the API really answers.
/// </summary>
public sealed class OpenApiDescription : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    private const string UrlEncoded = "application/x-www-form-urlencoded";

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
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var path = "/" + description.RelativePath;
        // A form is Twilio's urlencoded one (never multipart), its fields one object.
        if (operation.RequestBody?.Content?.Values.FirstOrDefault(c => c.Schema is { Properties.Count: > 0 } or { AllOf.Count: > 0 }) is { Schema: { } schema })
        {
            var fields = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>() };
            foreach (var part in schema.AllOf is { Count: > 0 } parts ? parts : [schema])
            {
                foreach (var (name, field) in part.Properties ?? new Dictionary<string, IOpenApiSchema>())
                {
                    fields.Properties[name] = field;
                }
            }
            operation.RequestBody = new OpenApiRequestBody { Content = new Dictionary<string, OpenApiMediaType> { [UrlEncoded] = new() { Schema = fields } } };
        }
        if (description.HttpMethod == "PUT")
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The recording: a PCM WAV file, streamed; it is encrypted as it arrives.",
                Content = new Dictionary<string, OpenApiMediaType> { ["audio/wav"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } } },
            };
        }
        if (description.HttpMethod == "GET" && path.EndsWith("/{file}", StringComparison.Ordinal))
        {
            operation.Description = "{file} is RE….json for the resource, RE….wav (or RE… alone) for the audio: ciphertext for a customer-key recording, " +
                "the WAV itself for one under the server-managed key. RE….mp3 of an encrypted recording is refused with 16109.";
            operation.Responses ??= new OpenApiResponses();
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "The recording resource, or its media (with Range support)",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchemaReference("Recording", context.Document) },
                    ["audio/wav"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                    ["application/octet-stream"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "an encrypted recording (rsa-aes)" } },
                },
            };
        }
        return Task.CompletedTask;
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
