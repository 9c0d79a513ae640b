// Command opa-authz serves Envoy's external authorization API (envoy.service.auth.v3.Authorization,
// gRPC) by evaluating a Rego policy with OPA, the way OPA's Envoy plugin does: the CheckRequest, as
// protobuf JSON with the proto field names, is the policy's input, and data.envoy.authz.allow decides.
// allow may be a boolean, or an object {allowed, headers, http_status, body} for richer answers.
// It exists for Sluice's tests (OPA's Envoy plugin itself is not served as a Go module here).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net"
	"os"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/open-policy-agent/opa/v1/rego"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
)

type server struct {
	authv3.UnimplementedAuthorizationServer
	query rego.PreparedEvalQuery
}

func (s *server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	var input map[string]any
	if err := json.Unmarshal(raw, &input); err != nil {
		return nil, err
	}
	results, err := s.query.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return nil, err
	}
	allowed, headers, httpStatus, body := false, map[string]string{}, int32(403), ""
	if len(results) > 0 && len(results[0].Expressions) > 0 {
		switch v := results[0].Expressions[0].Value.(type) {
		case bool:
			allowed = v
		case map[string]any:
			allowed, _ = v["allowed"].(bool)
			if h, ok := v["headers"].(map[string]any); ok {
				for k, val := range h {
					if s, ok := val.(string); ok {
						headers[k] = s
					}
				}
			}
			if n, ok := v["http_status"].(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					httpStatus = int32(i)
				}
			}
			body, _ = v["body"].(string)
		}
	}
	options := make([]*corev3.HeaderValueOption, 0, len(headers))
	for k, v := range headers {
		options = append(options, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}})
	}
	if allowed {
		return &authv3.CheckResponse{
			Status:       &status.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{Headers: options}},
		}, nil
	}
	return &authv3.CheckResponse{
		Status: &status.Status{Code: int32(codes.PermissionDenied)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(httpStatus)},
			Headers: options,
			Body:    body,
		}},
	}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9191", "listen address")
	policy := flag.String("policy", "", "Rego file")
	flag.Parse()
	source, err := os.ReadFile(*policy)
	if err != nil {
		log.Fatal(err)
	}
	query, err := rego.New(rego.Query("data.envoy.authz.allow"), rego.Module(*policy, string(source))).
		PrepareForEval(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", listener.Addr())
	grpcServer := grpc.NewServer()
	authv3.RegisterAuthorizationServer(grpcServer, &server{query: query})
	log.Fatal(grpcServer.Serve(listener))
}
