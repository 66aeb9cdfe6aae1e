// Command kstatus computes the kstatus status of Kubernetes objects, exactly as Flux (which uses
// sigs.k8s.io/cli-utils/pkg/kstatus) computes it for health checks and `wait: true`. The tests
// use it to check that Flux would see an Integration's status the way the docs say.
//
// Reads a JSON array of objects on stdin; writes a JSON array, in the same order, of
// {"status": "Current|InProgress|Failed|Terminating|NotFound|Unknown", "message": "..."}.
// Exits 1 with the error on stderr if the input is not a JSON array of objects or if
// status.Compute fails.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	// utiljson keeps integers as int64, as the API machinery does; kstatus reads
	// generations with NestedInt64, which rejects encoding/json's float64.
	var objects []map[string]interface{}
	err = utiljson.Unmarshal(data, &objects)
	if err == nil && objects == nil {
		err = errors.New("got null")
	}
	if err != nil {
		return fmt.Errorf("stdin is not a JSON array of objects: %w", err)
	}
	results := make([]result, 0, len(objects))
	for i, obj := range objects {
		if obj == nil {
			return fmt.Errorf("object %d is null", i)
		}
		res, err := status.Compute(&unstructured.Unstructured{Object: obj})
		if err != nil {
			return fmt.Errorf("object %d: %w", i, err)
		}
		results = append(results, result{Status: string(res.Status), Message: res.Message})
	}
	return json.NewEncoder(out).Encode(results)
}
