// A streaming LLM stand-in that is not Node: POST /v1/chat/completions answers an OpenAI chat
// completion stream of -tokens content chunks, -delay apart after -ttft, then a usage chunk and
// [DONE]. Go's net/http holds thousands of such streams on little CPU, so a stream benchmark measures
// the gateway, not its upstream.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	tokens := flag.Int("tokens", 40, "content chunks per stream")
	delay := flag.Duration("delay", 50*time.Millisecond, "time between chunks")
	ttft := flag.Duration("ttft", 100*time.Millisecond, "time to the first chunk")
	flag.Parse()
	http.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		flusher, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no flusher", http.StatusInternalServerError)
			return
		}
		w.Header().Set("content-type", "text/event-stream")
		w.Header().Set("cache-control", "no-cache")
		w.WriteHeader(http.StatusOK)
		head := `{"id":"chatcmpl-go","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[`
		time.Sleep(*ttft)
		for i := 0; i < *tokens; i++ {
			if i > 0 {
				time.Sleep(*delay)
			}
			if _, err := fmt.Fprintf(w, "data: %s{\"index\":0,\"delta\":{\"content\":\"word%d \"},\"finish_reason\":null}]}\n\n", head, i); err != nil {
				return
			}
			flusher.Flush()
		}
		fmt.Fprintf(w, "data: %s{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n", head)
		fmt.Fprintf(w, "data: %s],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n", head, *tokens, *tokens+3)
		fmt.Fprint(w, "data: [DONE]\n\n")
		flusher.Flush()
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
