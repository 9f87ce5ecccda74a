using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VoiceVault.Server.Api;

/// <summary>
/// What the generated OpenAPI document cannot see in minimal-API handlers that read forms and write
/// dictionaries: Basic auth, each resource's fields (Twilio's names), the form and query parameters
/// an operation takes, and its responses — the resource, or Twilio's error object. The test
/// <c>OpenApiTests</c> checks every shape here against what the API really answers.
/// </summary>
public sealed class OpenApiDescription : IOpenApiDocumentTransformer
{
    // Field lists: name:type, where type is s (string), i (integer), b (boolean), o (object), and
    // a trailing ? marks a field that may be null.
    internal static readonly Dictionary<string, string[]> Resources = new()
    {
        ["Account"] = ["sid:s", "friendly_name:s", "status:s", "type:s", "owner_account_sid:s", "auth_token:s", "date_created:s", "date_updated:s", "uri:s", "subresource_uris:o"],
        ["ApiKey"] = ["sid:s", "friendly_name:s", "date_created:s", "date_updated:s"],
        ["NewApiKey"] = ["sid:s", "friendly_name:s", "date_created:s", "date_updated:s", "secret:s"],
        ["PublicKey"] = ["sid:s", "account_sid:s", "friendly_name:s", "date_created:s", "date_updated:s", "url:s"],
        ["RecordingEncryption"] = ["account_sid:s", "enabled:b", "public_key_sid:s?", "inherited_from:s?", "date_updated:s?", "uri:s"],
        ["Recording"] = ["account_sid:s", "api_version:s", "call_sid:s", "conference_sid:s?", "date_created:s", "date_updated:s", "start_time:s", "duration:s?",
            "sid:s", "price:s?", "price_unit:s", "status:s", "channels:i", "source:s", "error_code:i?", "uri:s", "encryption_details:o?", "subresource_uris:o",
            "media_url:s"],
        // The same recording under a call's path also tells which track it holds, as Twilio's does.
        ["CallRecording"] = ["account_sid:s", "api_version:s", "call_sid:s", "conference_sid:s?", "date_created:s", "date_updated:s", "start_time:s", "duration:s?",
            "sid:s", "price:s?", "price_unit:s", "status:s", "channels:i", "source:s", "error_code:i?", "uri:s", "encryption_details:o?", "subresource_uris:o",
            "media_url:s", "track:s"],
        ["Notification"] = ["account_sid:s", "api_version:s", "call_sid:s?", "date_created:s", "date_updated:s", "error_code:s", "log:s", "message_date:s",
            "message_text:s", "more_info:s", "request_method:s?", "request_url:s", "request_variables:s", "response_body:s", "response_headers:s", "sid:s", "uri:s"],
        ["Error"] = ["code:i", "message:s", "more_info:s", "status:i"],
    };

    // Twilio's 2010-04-01 list envelope; the v1 one (public keys) has the items and "meta".
    private static readonly string[] V2010Page = ["page:i", "page_size:i", "start:i", "end:i", "uri:s", "first_page_uri:s", "next_page_uri:s?", "previous_page_uri:s?"];

    internal static readonly Dictionary<string, (string Items, string Of, bool V1)> Lists = new()
    {
        ["AccountList"] = ("accounts", "Account", false),
        ["ApiKeyList"] = ("keys", "ApiKey", false),
        ["RecordingList"] = ("recordings", "Recording", false),
        ["CallRecordingList"] = ("recordings", "CallRecording", false),
        ["NotificationList"] = ("notifications", "Notification", false),
        ["PublicKeyList"] = ("credentials", "PublicKey", true),
    };

    private static readonly string[] Paging = ["PageSize", "Page", "PageToken"];
    private static readonly string[] RecordingFilters = ["CallSid", "DateCreated", "DateCreated<", "DateCreated>"];
    private static readonly string[] CallbackQuery = ["RecordingStatusCallback", "RecordingStatusCallbackMethod", "RecordingStatusCallbackEvent", "RecordingChannels", "RecordingTrack"];

    // METHOD path → form fields, query fields, success status, response (schema name, or a media type for bytes).
    private static readonly Dictionary<string, (string[] Form, string[] Query, int Status, string Response)> Operations = new()
    {
        ["POST /2010-04-01/Accounts.json"] = (["FriendlyName"], [], 201, "Account"),
        ["GET /2010-04-01/Accounts.json"] = ([], [.. Paging, "FriendlyName", "Status"], 200, "AccountList"),
        ["GET /2010-04-01/Accounts/{sid}.json"] = ([], [], 200, "Account"),
        ["POST /2010-04-01/Accounts/{sid}.json"] = (["FriendlyName", "Status"], [], 200, "Account"),
        ["POST /2010-04-01/Accounts/{sid}/Keys.json"] = (["FriendlyName"], [], 201, "NewApiKey"),
        ["GET /2010-04-01/Accounts/{sid}/Keys.json"] = ([], Paging, 200, "ApiKeyList"),
        ["GET /2010-04-01/Accounts/{sid}/Keys/{keySid}.json"] = ([], [], 200, "ApiKey"),
        ["DELETE /2010-04-01/Accounts/{sid}/Keys/{keySid}.json"] = ([], [], 204, ""),
        ["POST /v1/Credentials/PublicKeys"] = (["PublicKey", "FriendlyName", "AccountSid"], [], 201, "PublicKey"),
        ["GET /v1/Credentials/PublicKeys"] = ([], Paging, 200, "PublicKeyList"),
        ["GET /v1/Credentials/PublicKeys/{sid}"] = ([], [], 200, "PublicKey"),
        ["POST /v1/Credentials/PublicKeys/{sid}"] = (["FriendlyName"], [], 200, "PublicKey"),
        ["DELETE /v1/Credentials/PublicKeys/{sid}"] = ([], [], 204, ""),
        ["GET /2010-04-01/Accounts/{sid}/RecordingEncryption.json"] = ([], [], 200, "RecordingEncryption"),
        ["POST /2010-04-01/Accounts/{sid}/RecordingEncryption.json"] = (["Enabled", "PublicKeySid"], [], 200, "RecordingEncryption"),
        ["GET /2010-04-01/Accounts/{sid}/Recordings.json"] = ([], [.. Paging, .. RecordingFilters], 200, "RecordingList"),
        ["GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json"] = ([], [.. Paging, "DateCreated", "DateCreated<", "DateCreated>"], 200, "CallRecordingList"),
        ["GET /2010-04-01/Accounts/{sid}/Recordings/{file}"] = ([], [], 200, "media"),
        ["GET /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}"] = ([], [], 200, "media"),
        ["DELETE /2010-04-01/Accounts/{sid}/Recordings/{file}"] = ([], [], 204, ""),
        ["DELETE /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}"] = ([], [], 204, ""),
        ["GET /2010-04-01/Accounts/{sid}/Notifications.json"] = ([], [.. Paging, "Log"], 200, "NotificationList"),
        ["GET /2010-04-01/Accounts/{sid}/Notifications/{notificationSid}.json"] = ([], [], 200, "Notification"),
        ["PUT /v1/Ingest/Calls/{callSid}/Recording"] = ([], CallbackQuery, 201, "Recording"),
        ["POST /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings.json"] = ([.. CallbackQuery, "Trim"], [], 201, "CallRecording"),
        ["POST /2010-04-01/Accounts/{sid}/Calls/{callSid}/Recordings/{file}"] = (["Status", "PauseBehavior"], [], 200, "CallRecording"),
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
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, fields) in Resources)
        {
            document.Components.Schemas[name] = ObjectOf(fields, null);
        }
        foreach (var (name, (items, of, v1)) in Lists)
        {
            var list = v1 ? ObjectOf(["meta:o"], null) : ObjectOf(V2010Page, null);
            list.Properties![items] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchemaReference(of, document) };
            list.Required!.Add(items);
            document.Components.Schemas[name] = list;
        }

        foreach (var (key, shape) in Operations)
        {
            var (method, path) = (new HttpMethod(key[..key.IndexOf(' ', StringComparison.Ordinal)]), key[(key.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
            if (document.Paths.TryGetValue(path, out var item) && item.Operations is { } operations && operations.TryGetValue(method, out var operation))
            {
                Describe(operation, shape, document);
            }
        }
        return Task.CompletedTask;
    }

    private static void Describe(OpenApiOperation operation, (string[] Form, string[] Query, int Status, string Response) shape, OpenApiDocument document)
    {
        if (shape.Response == "media")
        {
            operation.Description = "{file} is RE….json for the resource, RE….wav (or RE… alone) for the audio: ciphertext for a customer-key recording, " +
                "the WAV itself for one under the server-managed key. RE….mp3 of an encrypted recording is refused with 16109.";
        }
        operation.Parameters ??= [];
        foreach (var name in shape.Query)
        {
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        }
        if (shape.Form.Length > 0)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/x-www-form-urlencoded"] = new() { Schema = ObjectOf(shape.Form.Select(f => f + ":s").ToArray(), []) },
                },
            };
        }
        else if (shape.Response == "Recording" && operation.RequestBody is null)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The recording: a PCM WAV file, streamed; it is encrypted as it arrives.",
                Content = new Dictionary<string, OpenApiMediaType> { ["audio/wav"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } } },
            };
        }
        var error = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference("Error", document) } };
        operation.Responses = new OpenApiResponses
        {
            [shape.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = shape.Status == 204 ? "Deleted" : "Success",
                Content = shape.Response switch
                {
                    "" => null,
                    "media" => new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = new OpenApiSchemaReference("Recording", document) },
                        ["audio/wav"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                        ["application/octet-stream"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "an encrypted recording (rsa-aes), with Range support" } },
                    },
                    var name => new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference(name, document) } },
                },
            },
            ["400"] = new OpenApiResponse { Description = "A parameter is missing or invalid", Content = error },
            ["401"] = new OpenApiResponse { Description = "Wrong or missing credentials (code 20003)", Content = error },
            ["404"] = new OpenApiResponse { Description = "Not found, or not the caller's (code 20404)", Content = error },
        };
    }

    // required: every field that is not nullable, unless the caller gives its own list (forms: none).
    private static OpenApiSchema ObjectOf(string[] fields, HashSet<string>? required)
    {
        var schema = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>(), Required = required ?? [] };
        foreach (var field in fields)
        {
            var (name, type) = (field[..field.IndexOf(':', StringComparison.Ordinal)], field[(field.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            bool nullable = type.EndsWith('?');
            var kind = type.TrimEnd('?') switch
            {
                "i" => JsonSchemaType.Integer,
                "b" => JsonSchemaType.Boolean,
                "o" => JsonSchemaType.Object,
                _ => JsonSchemaType.String,
            };
            schema.Properties[name] = new OpenApiSchema { Type = nullable ? kind | JsonSchemaType.Null : kind };
            if (required is null && !nullable)
            {
                schema.Required.Add(name);
            }
        }
        return schema;
    }

    /// <summary>Whether <paramref name="value"/> has the JSON type the field list gives (tests).</summary>
    internal static bool Fits(string type, JsonNode? value) => value is null
        ? type.EndsWith('?')
        : type.TrimEnd('?') switch
        {
            "i" => value.GetValueKind() == System.Text.Json.JsonValueKind.Number,
            "b" => value.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
            "o" => value.GetValueKind() == System.Text.Json.JsonValueKind.Object,
            _ => value.GetValueKind() == System.Text.Json.JsonValueKind.String,
        };
}
