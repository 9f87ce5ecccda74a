using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace VoiceVault.Crypto;

/// <summary>A PKCS#11 function returned something other than CKR_OK.</summary>
internal sealed class Pkcs11Error(string function, nuint code) : Exception($"{function} returned {Pkcs11Module.Name(code)}")
{
    public string Function => function;

    public nuint Code => code;

    public string CodeName => Pkcs11Module.Name(code);
}

/// <summary>An attribute of a PKCS#11 object template: its CKA_ type and its value's bytes.</summary>
internal readonly record struct Pkcs11Attribute(nuint Type, byte[] Value)
{
    public static Pkcs11Attribute Bool(nuint type, bool value) => new(type, [value ? (byte)1 : (byte)0]);

    public static Pkcs11Attribute Number(nuint type, nuint value) => new(type, BitConverter.GetBytes((ulong)value)[..nuint.Size]);

    public static Pkcs11Attribute Text(nuint type, string value) => new(type, Encoding.UTF8.GetBytes(value));
}

/// <summary>
/// The few Cryptoki (PKCS#11 v2.40) calls a recording key needs, made through the module's
/// function list with unmanaged function pointers and blittable structures — nothing the native
/// AOT build of <c>voicevault</c> cannot compile (a wrapper built on runtime marshalling of
/// delegates and structures, as Pkcs11Interop is, fails there). CK_ULONG is C's
/// <c>unsigned long</c>: pointer-sized on Linux and macOS, which is where this binding runs.
/// </summary>
internal sealed unsafe class Pkcs11Module
{
    // Return values (pkcs11t.h) this code names or reacts to.
    public const nuint CKR_OK = 0, CKR_ARGUMENTS_BAD = 0x7, CKR_ATTRIBUTE_SENSITIVE = 0x11, CKR_ATTRIBUTE_TYPE_INVALID = 0x12,
        CKR_FUNCTION_FAILED = 0x6, CKR_ENCRYPTED_DATA_INVALID = 0x40, CKR_ENCRYPTED_DATA_LEN_RANGE = 0x41, CKR_KEY_FUNCTION_NOT_PERMITTED = 0x68,
        CKR_MECHANISM_INVALID = 0x70, CKR_MECHANISM_PARAM_INVALID = 0x71, CKR_PIN_INCORRECT = 0xA0, CKR_PIN_EXPIRED = 0xA3,
        CKR_PIN_LOCKED = 0xA4, CKR_USER_ALREADY_LOGGED_IN = 0x100, CKR_BUFFER_TOO_SMALL = 0x150, CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;

    // Attributes, classes, key types and mechanisms (pkcs11t.h).
    public const nuint CKA_CLASS = 0x0, CKA_TOKEN = 0x1, CKA_PRIVATE = 0x2, CKA_LABEL = 0x3, CKA_KEY_TYPE = 0x100, CKA_ID = 0x102,
        CKA_SENSITIVE = 0x103, CKA_ENCRYPT = 0x104, CKA_DECRYPT = 0x105, CKA_WRAP = 0x106, CKA_UNWRAP = 0x107, CKA_SIGN = 0x108,
        CKA_SIGN_RECOVER = 0x109, CKA_VERIFY = 0x10A, CKA_MODULUS = 0x120, CKA_MODULUS_BITS = 0x121, CKA_PUBLIC_EXPONENT = 0x122,
        CKA_EXTRACTABLE = 0x162;

    public const nuint CKO_PUBLIC_KEY = 2, CKO_PRIVATE_KEY = 3, CKK_RSA = 0;

    public const nuint CKM_RSA_PKCS_KEY_PAIR_GEN = 0x0, CKM_RSA_X_509 = 0x3, CKM_RSA_PKCS_OAEP = 0x9, CKM_SHA_1 = 0x220, CKM_SHA256 = 0x250,
        CKG_MGF1_SHA1 = 0x1, CKG_MGF1_SHA256 = 0x2, CKZ_DATA_SPECIFIED = 0x1;

    private const nuint CKF_RW_SESSION = 0x2, CKF_SERIAL_SESSION = 0x4, CKF_OS_LOCKING_OK = 0x2, CKU_USER = 1;
    private const nuint CKF_LOGIN_REQUIRED = 0x4, CKF_TOKEN_INITIALIZED = 0x400;
    private static readonly nuint Unavailable = nuint.MaxValue;

    private static readonly Dictionary<nuint, string> Names = new()
    {
        [0x0] = "CKR_OK", [0x1] = "CKR_CANCEL", [0x2] = "CKR_HOST_MEMORY", [0x3] = "CKR_SLOT_ID_INVALID", [0x5] = "CKR_GENERAL_ERROR",
        [0x6] = "CKR_FUNCTION_FAILED", [0x7] = "CKR_ARGUMENTS_BAD", [0x10] = "CKR_ATTRIBUTE_READ_ONLY", [0x11] = "CKR_ATTRIBUTE_SENSITIVE",
        [0x12] = "CKR_ATTRIBUTE_TYPE_INVALID", [0x13] = "CKR_ATTRIBUTE_VALUE_INVALID", [0x20] = "CKR_DATA_INVALID", [0x21] = "CKR_DATA_LEN_RANGE",
        [0x30] = "CKR_DEVICE_ERROR", [0x31] = "CKR_DEVICE_MEMORY", [0x32] = "CKR_DEVICE_REMOVED", [0x40] = "CKR_ENCRYPTED_DATA_INVALID",
        [0x41] = "CKR_ENCRYPTED_DATA_LEN_RANGE", [0x54] = "CKR_FUNCTION_NOT_SUPPORTED", [0x60] = "CKR_KEY_HANDLE_INVALID",
        [0x62] = "CKR_KEY_SIZE_RANGE", [0x63] = "CKR_KEY_TYPE_INCONSISTENT", [0x68] = "CKR_KEY_FUNCTION_NOT_PERMITTED",
        [0x70] = "CKR_MECHANISM_INVALID", [0x71] = "CKR_MECHANISM_PARAM_INVALID", [0x82] = "CKR_OBJECT_HANDLE_INVALID",
        [0x90] = "CKR_OPERATION_ACTIVE", [0x91] = "CKR_OPERATION_NOT_INITIALIZED", [0xA0] = "CKR_PIN_INCORRECT", [0xA1] = "CKR_PIN_INVALID",
        [0xA2] = "CKR_PIN_LEN_RANGE", [0xA3] = "CKR_PIN_EXPIRED", [0xA4] = "CKR_PIN_LOCKED", [0xB0] = "CKR_SESSION_CLOSED",
        [0xB1] = "CKR_SESSION_COUNT", [0xB3] = "CKR_SESSION_HANDLE_INVALID", [0xB5] = "CKR_SESSION_READ_ONLY", [0xD0] = "CKR_TEMPLATE_INCOMPLETE",
        [0xD1] = "CKR_TEMPLATE_INCONSISTENT", [0xE0] = "CKR_TOKEN_NOT_PRESENT", [0xE1] = "CKR_TOKEN_NOT_RECOGNIZED",
        [0xE2] = "CKR_TOKEN_WRITE_PROTECTED", [0x100] = "CKR_USER_ALREADY_LOGGED_IN", [0x101] = "CKR_USER_NOT_LOGGED_IN",
        [0x102] = "CKR_USER_PIN_NOT_INITIALIZED", [0x150] = "CKR_BUFFER_TOO_SMALL", [0x190] = "CKR_CRYPTOKI_NOT_INITIALIZED",
        [0x191] = "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    };

    // A module is initialised once per process and stays loaded; every key opened through it shares it.
    private static readonly ConcurrentDictionary<string, Lazy<Pkcs11Module>> Loaded = new(StringComparer.Ordinal);

    // The function pointers of CK_FUNCTION_LIST, after its CK_VERSION (padded to a pointer).
    private readonly nint* _functions;

    private Pkcs11Module(nint* functions) => _functions = functions;

    [StructLayout(LayoutKind.Sequential)]
    private struct CK_ATTRIBUTE
    {
        public nuint Type;
        public void* Value;
        public nuint ValueLen;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CK_MECHANISM
    {
        public nuint Mechanism;
        public void* Parameter;
        public nuint ParameterLen;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CK_RSA_PKCS_OAEP_PARAMS
    {
        public nuint HashAlg;
        public nuint Mgf;
        public nuint Source;
        public void* SourceData;
        public nuint SourceDataLen;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CK_C_INITIALIZE_ARGS
    {
        public void* CreateMutex;
        public void* DestroyMutex;
        public void* LockMutex;
        public void* UnlockMutex;
        public nuint Flags;
        public void* Reserved;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CK_TOKEN_INFO
    {
        public fixed byte Label[32];
        public fixed byte ManufacturerId[32];
        public fixed byte Model[16];
        public fixed byte SerialNumber[16];
        public nuint Flags;
        public fixed ulong Counters[10];
        public fixed byte Versions[4];
        public fixed byte UtcTime[16];
    }

    /// <summary>A token as its slot describes it; text fields without their blank padding.</summary>
    public sealed record Token(nuint Slot, string Label, string Manufacturer, string Model, string Serial, bool LoginRequired, bool Initialized);

    /// <summary>A decryption mechanism; for CKM_RSA_PKCS_OAEP, its hash and mask generation function.</summary>
    public readonly record struct Mechanism(nuint Type, nuint OaepHash = 0, nuint OaepMgf = 0)
    {
        public static Mechanism RawRsa => new(CKM_RSA_X_509);

        public static Mechanism OaepSha256 => new(CKM_RSA_PKCS_OAEP, CKM_SHA256, CKG_MGF1_SHA256);
    }

    /// <summary>Loads and initialises the module at <paramref name="path"/>, once per process.</summary>
    public static Pkcs11Module Load(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            // Windows' CK_ULONG is 32 bits and its structures packed to 1 byte: another binding.
            throw new PlatformNotSupportedException("PKCS#11 keys are supported on Linux and macOS");
        }
        var lazy = Loaded.GetOrAdd(path, p => new Lazy<Pkcs11Module>(() => Initialise(p)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Loaded.TryRemove(path, out _);
            throw;
        }
    }

    private static Pkcs11Module Initialise(string path)
    {
        var library = NativeLibrary.Load(path);
        if (!NativeLibrary.TryGetExport(library, "C_GetFunctionList", out var getFunctionList))
        {
            throw new DllNotFoundException($"'{path}' exports no C_GetFunctionList, so it is not a PKCS#11 module");
        }
        byte* list = null;
        Check("C_GetFunctionList", ((delegate* unmanaged[Cdecl]<byte**, nuint>)getFunctionList)(&list));
        var module = new Pkcs11Module((nint*)(list + sizeof(nint)));
        var args = new CK_C_INITIALIZE_ARGS { Flags = CKF_OS_LOCKING_OK };
        var rv = ((delegate* unmanaged[Cdecl]<CK_C_INITIALIZE_ARGS*, nuint>)module._functions[0])(&args);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        {
            throw new Pkcs11Error("C_Initialize", rv);
        }
        return module;
    }

    /// <summary>The name of a CK_RV, or its number.</summary>
    public static string Name(nuint code) => Names.TryGetValue(code, out var name) ? name : $"CK_RV 0x{code:x}";

    /// <summary>The slots that hold a token.</summary>
    public nuint[] Slots()
    {
        var getSlotList = (delegate* unmanaged[Cdecl]<byte, nuint*, nuint*, nuint>)_functions[4];
        nuint count = 0;
        Check("C_GetSlotList", getSlotList(1, null, &count));
        var slots = new nuint[count];
        fixed (nuint* p = slots)
        {
            Check("C_GetSlotList", getSlotList(1, p, &count));
        }
        return slots[..(int)count];
    }

    public Token TokenIn(nuint slot)
    {
        CK_TOKEN_INFO info;
        Check("C_GetTokenInfo", ((delegate* unmanaged[Cdecl]<nuint, CK_TOKEN_INFO*, nuint>)_functions[6])(slot, &info));
        return new Token(slot, Padded(info.Label, 32), Padded(info.ManufacturerId, 32), Padded(info.Model, 16), Padded(info.SerialNumber, 16),
            (info.Flags & CKF_LOGIN_REQUIRED) != 0, (info.Flags & CKF_TOKEN_INITIALIZED) != 0);

        static string Padded(byte* field, int length) => Encoding.UTF8.GetString(field, length).TrimEnd(' ', '\0');
    }

    public nuint OpenSession(nuint slot, bool readWrite)
    {
        nuint session;
        Check("C_OpenSession", ((delegate* unmanaged[Cdecl]<nuint, nuint, void*, void*, nuint*, nuint>)_functions[12])(
            slot, CKF_SERIAL_SESSION | (readWrite ? CKF_RW_SESSION : 0), null, null, &session));
        return session;
    }

    public void CloseSession(nuint session) => ((delegate* unmanaged[Cdecl]<nuint, nuint>)_functions[13])(session);

    /// <summary>Logs the user in; the CK_RV is returned for the caller to judge.</summary>
    public nuint Login(nuint session, ReadOnlySpan<byte> pin)
    {
        fixed (byte* p = pin)
        {
            return ((delegate* unmanaged[Cdecl]<nuint, nuint, byte*, nuint, nuint>)_functions[18])(session, CKU_USER, p, (nuint)pin.Length);
        }
    }

    public List<nuint> Find(nuint session, params Pkcs11Attribute[] template)
    {
        var found = new List<nuint>();
        using (var attributes = new Template(template))
        {
            Check("C_FindObjectsInit", ((delegate* unmanaged[Cdecl]<nuint, CK_ATTRIBUTE*, nuint, nuint>)_functions[26])(session, attributes.Pointer, (nuint)template.Length));
        }
        try
        {
            var batch = stackalloc nuint[16];
            while (true)
            {
                nuint count;
                Check("C_FindObjects", ((delegate* unmanaged[Cdecl]<nuint, nuint*, nuint, nuint*, nuint>)_functions[27])(session, batch, 16, &count));
                if (count == 0)
                {
                    return found;
                }
                for (nuint i = 0; i < count; i++)
                {
                    found.Add(batch[i]);
                }
            }
        }
        finally
        {
            ((delegate* unmanaged[Cdecl]<nuint, nuint>)_functions[28])(session);
        }
    }

    /// <summary>An attribute's value; null when the object has none or keeps it secret.</summary>
    public byte[]? Attribute(nuint session, nuint handle, nuint type)
    {
        var getAttributeValue = (delegate* unmanaged[Cdecl]<nuint, nuint, CK_ATTRIBUTE*, nuint, nuint>)_functions[24];
        var attribute = new CK_ATTRIBUTE { Type = type };
        var rv = getAttributeValue(session, handle, &attribute, 1);
        if (rv is CKR_ATTRIBUTE_SENSITIVE or CKR_ATTRIBUTE_TYPE_INVALID || attribute.ValueLen == Unavailable)
        {
            return null;
        }
        Check("C_GetAttributeValue", rv);
        var value = new byte[attribute.ValueLen];
        fixed (byte* p = value)
        {
            attribute.Value = p;
            Check("C_GetAttributeValue", getAttributeValue(session, handle, &attribute, 1));
        }
        return value[..(int)attribute.ValueLen];
    }

    /// <summary>One-part C_Decrypt of <paramref name="input"/> (an RSA block: the output is never longer).</summary>
    public byte[] Decrypt(nuint session, Mechanism mechanism, nuint key, ReadOnlySpan<byte> input)
    {
        var oaep = new CK_RSA_PKCS_OAEP_PARAMS { HashAlg = mechanism.OaepHash, Mgf = mechanism.OaepMgf, Source = CKZ_DATA_SPECIFIED };
        var ckMechanism = mechanism.Type == CKM_RSA_PKCS_OAEP
            ? new CK_MECHANISM { Mechanism = mechanism.Type, Parameter = &oaep, ParameterLen = (nuint)sizeof(CK_RSA_PKCS_OAEP_PARAMS) }
            : new CK_MECHANISM { Mechanism = mechanism.Type };
        Check("C_DecryptInit", ((delegate* unmanaged[Cdecl]<nuint, CK_MECHANISM*, nuint, nuint>)_functions[33])(session, &ckMechanism, key));
        var output = GC.AllocateArray<byte>(input.Length, pinned: true);
        nuint length = (nuint)output.Length;
        fixed (byte* source = input)
        fixed (byte* target = output)
        {
            Check("C_Decrypt", ((delegate* unmanaged[Cdecl]<nuint, byte*, nuint, byte*, nuint*, nuint>)_functions[34])(session, source, (nuint)input.Length, target, &length));
        }
        var result = output[..(int)length];
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(output);
        return result;
    }

    /// <summary>C_GenerateKeyPair; the private key's handle.</summary>
    public nuint GenerateKeyPair(nuint session, nuint mechanism, Pkcs11Attribute[] publicTemplate, Pkcs11Attribute[] privateTemplate)
    {
        var ckMechanism = new CK_MECHANISM { Mechanism = mechanism };
        using var publicAttributes = new Template(publicTemplate);
        using var privateAttributes = new Template(privateTemplate);
        nuint publicKey, privateKey;
        Check("C_GenerateKeyPair", ((delegate* unmanaged[Cdecl]<nuint, CK_MECHANISM*, CK_ATTRIBUTE*, nuint, CK_ATTRIBUTE*, nuint, nuint*, nuint*, nuint>)_functions[59])(
            session, &ckMechanism, publicAttributes.Pointer, (nuint)publicTemplate.Length, privateAttributes.Pointer, (nuint)privateTemplate.Length, &publicKey, &privateKey));
        return privateKey;
    }

    private static void Check(string function, nuint rv)
    {
        if (rv != CKR_OK)
        {
            throw new Pkcs11Error(function, rv);
        }
    }

    // A CK_ATTRIBUTE array over pinned copies of the values, freed on Dispose.
    private sealed class Template : IDisposable
    {
        private readonly GCHandle[] _pins;

        public Template(Pkcs11Attribute[] attributes)
        {
            _pins = new GCHandle[attributes.Length];
            Pointer = (CK_ATTRIBUTE*)NativeMemory.Alloc((nuint)Math.Max(1, attributes.Length), (nuint)sizeof(CK_ATTRIBUTE));
            for (int i = 0; i < attributes.Length; i++)
            {
                _pins[i] = GCHandle.Alloc(attributes[i].Value, GCHandleType.Pinned);
                Pointer[i] = new CK_ATTRIBUTE
                {
                    Type = attributes[i].Type,
                    Value = (void*)_pins[i].AddrOfPinnedObject(),
                    ValueLen = (nuint)attributes[i].Value.Length,
                };
            }
        }

        public CK_ATTRIBUTE* Pointer { get; }

        public void Dispose()
        {
            foreach (var pin in _pins.Where(p => p.IsAllocated))
            {
                pin.Free();
            }
            NativeMemory.Free(Pointer);
        }
    }
}
