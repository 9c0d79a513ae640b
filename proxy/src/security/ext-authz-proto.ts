import protobuf from 'protobufjs';

/**
 * The part of Envoy's external authorization API (envoy.service.auth.v3) the gateway speaks, as a
 * protobufjs descriptor. Field numbers are Envoy's (api/envoy/service/auth/v3/*.proto); fields the
 * gateway neither sends nor reads are left out, which protobuf's wire format allows in both
 * directions (unknown fields are skipped).
 */
const descriptor = {
  nested: {
    envoy: {
      nested: {
        service: {
          nested: {
            auth: {
              nested: {
                v3: {
                  nested: {
                    CheckRequest: { fields: { attributes: { type: 'AttributeContext', id: 1 } } },
                    AttributeContext: {
                      fields: {
                        source: { type: 'Peer', id: 1 },
                        destination: { type: 'Peer', id: 2 },
                        request: { type: 'Request', id: 4 },
                        contextExtensions: { keyType: 'string', type: 'string', id: 10 },
                      },
                      nested: {
                        Peer: {
                          fields: {
                            address: { type: 'envoy.config.core.v3.Address', id: 1 },
                            principal: { type: 'string', id: 4 },
                          },
                        },
                        Request: {
                          fields: {
                            time: { type: 'google.protobuf.Timestamp', id: 1 },
                            http: { type: 'HttpRequest', id: 2 },
                          },
                        },
                        HttpRequest: {
                          fields: {
                            id: { type: 'string', id: 1 },
                            method: { type: 'string', id: 2 },
                            headers: { keyType: 'string', type: 'string', id: 3 },
                            path: { type: 'string', id: 4 },
                            host: { type: 'string', id: 5 },
                            scheme: { type: 'string', id: 6 },
                            query: { type: 'string', id: 7 },
                            size: { type: 'int64', id: 9 },
                            protocol: { type: 'string', id: 10 },
                          },
                        },
                      },
                    },
                    CheckResponse: {
                      oneofs: { httpResponse: { oneof: ['deniedResponse', 'okResponse', 'errorResponse'] } },
                      fields: {
                        status: { type: 'google.rpc.Status', id: 1 },
                        deniedResponse: { type: 'DeniedHttpResponse', id: 2 },
                        okResponse: { type: 'OkHttpResponse', id: 3 },
                        errorResponse: { type: 'DeniedHttpResponse', id: 5 },
                      },
                    },
                    DeniedHttpResponse: {
                      fields: {
                        status: { type: 'envoy.type.v3.HttpStatus', id: 1 },
                        headers: { rule: 'repeated', type: 'envoy.config.core.v3.HeaderValueOption', id: 2 },
                        body: { type: 'string', id: 3 },
                      },
                    },
                    OkHttpResponse: {
                      fields: {
                        headers: { rule: 'repeated', type: 'envoy.config.core.v3.HeaderValueOption', id: 2 },
                        headersToRemove: { rule: 'repeated', type: 'string', id: 5 },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        config: {
          nested: {
            core: {
              nested: {
                v3: {
                  nested: {
                    Address: {
                      oneofs: { address: { oneof: ['socketAddress'] } },
                      fields: { socketAddress: { type: 'SocketAddress', id: 1 } },
                    },
                    SocketAddress: {
                      fields: { address: { type: 'string', id: 2 }, portValue: { type: 'uint32', id: 3 } },
                    },
                    HeaderValueOption: { fields: { header: { type: 'HeaderValue', id: 1 } } },
                    HeaderValue: {
                      fields: {
                        key: { type: 'string', id: 1 },
                        value: { type: 'string', id: 2 },
                        rawValue: { type: 'bytes', id: 3 },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        type: {
          nested: { v3: { nested: { HttpStatus: { fields: { code: { type: 'int32', id: 1 } } } } } },
        },
      },
    },
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
          },
        },
      },
    },
  },
};
// protobufjs's INamespace type has no `keyType` (map fields) though fromJSON reads it.
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

export const CheckRequest = root.lookupType('envoy.service.auth.v3.CheckRequest');
export const CheckResponse = root.lookupType('envoy.service.auth.v3.CheckResponse');

/** The decoded answer, as the gateway reads it. */
export interface CheckAnswer {
  status?: { code?: number; message?: string };
  deniedResponse?: DeniedAnswer;
  errorResponse?: DeniedAnswer;
  okResponse?: { headers?: HeaderOption[]; headersToRemove?: string[] };
}
interface DeniedAnswer {
  status?: { code?: number };
  headers?: HeaderOption[];
  body?: string;
}
interface HeaderOption {
  header?: { key?: string; value?: string; rawValue?: Uint8Array };
}
