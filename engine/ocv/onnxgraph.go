package ocv

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX protobuf field numbers (onnx.proto3) that trimONNX reads or rewrites.
const (
	onnxModelGraph     = 7  // ModelProto.graph
	onnxGraphNode      = 1  // GraphProto.node
	onnxGraphOutput    = 12 // GraphProto.output
	onnxGraphValueInfo = 13 // GraphProto.value_info
	onnxNodeInput      = 1  // NodeProto.input
	onnxNodeOutput     = 2  // NodeProto.output
	onnxNodeName       = 3  // NodeProto.name
	onnxValueInfoName  = 1  // ValueInfoProto.name
	onnxValueInfoType  = 2  // ValueInfoProto.type
)

// floatTensorType is a serialised TypeProto{tensor_type: {elem_type: FLOAT,
// shape: [n, c, h, w]}} with symbolic dimensions: OpenCV's importer insists
// on an output type and shape but computes the real shapes itself.
var floatTensorType = func() []byte {
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType) // Tensor.elem_type
	tensor = protowire.AppendVarint(tensor, 1)                    // TensorProto.FLOAT
	var shape []byte
	for _, p := range []string{"n", "c", "h", "w"} {
		var dim []byte
		dim = protowire.AppendTag(dim, 2, protowire.BytesType) // Dimension.dim_param
		dim = protowire.AppendString(dim, p)
		shape = protowire.AppendTag(shape, 1, protowire.BytesType) // TensorShapeProto.dim
		shape = protowire.AppendBytes(shape, dim)
	}
	tensor = protowire.AppendTag(tensor, 2, protowire.BytesType) // Tensor.shape
	tensor = protowire.AppendBytes(tensor, shape)
	var typ []byte
	typ = protowire.AppendTag(typ, 1, protowire.BytesType) // TypeProto.tensor_type
	return protowire.AppendBytes(typ, tensor)
}()

// errONNX marks a model file that trimONNX cannot parse or trim.
var errONNX = errors.New("onnx graph")

type onnxNode struct {
	raw     []byte
	name    string
	inputs  []string
	outputs []string
}

// trimONNX returns a copy of the serialised ONNX model with only the nodes
// needed to compute the first outputs of the nodes named in keep; those
// outputs become the graph's outputs, in that order, and the graph's shape
// annotations (value_info) are dropped. Initialisers and the input are kept
// as they are. It returns the new model and the output tensor names.
//
// vidid uses it to run the convolutional part of a network whose tail bakes
// in one input size (the face detector's prior boxes), so that the part can
// run at other sizes. It works on the wire format only (no ONNX schema is
// linked in) and never panics on malformed input.
func trimONNX(model []byte, keep []string) ([]byte, []string, error) {
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("%w: no nodes to keep", errONNX)
	}
	var out []byte
	var names []string
	graphs := 0
	for b := model; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, fmt.Errorf("%w: model: %v", errONNX, protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, nil, fmt.Errorf("%w: model field %d: %v", errONNX, num, protowire.ParseError(m))
		}
		field := b[:n+m]
		b = b[n+m:]
		if num != onnxModelGraph || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		if graphs++; graphs > 1 {
			return nil, nil, fmt.Errorf("%w: more than one graph", errONNX)
		}
		g, _ := protowire.ConsumeBytes(field[n:])
		ng, outs, err := trimGraph(g, keep)
		if err != nil {
			return nil, nil, err
		}
		out = protowire.AppendTag(out, onnxModelGraph, protowire.BytesType)
		out = protowire.AppendBytes(out, ng)
		names = outs
	}
	if graphs != 1 {
		return nil, nil, fmt.Errorf("%w: no graph in the model", errONNX)
	}
	return out, names, nil
}

func trimGraph(g []byte, keep []string) ([]byte, []string, error) {
	var nodes []onnxNode
	var rest []byte // every field but nodes, outputs and value_info, in order
	for b := g; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, fmt.Errorf("%w: graph: %v", errONNX, protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, nil, fmt.Errorf("%w: graph field %d: %v", errONNX, num, protowire.ParseError(m))
		}
		field := b[:n+m]
		b = b[n+m:]
		switch {
		case num == onnxGraphNode && typ == protowire.BytesType:
			raw, _ := protowire.ConsumeBytes(field[n:])
			nd, err := parseNode(raw)
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, nd)
		case num == onnxGraphOutput || num == onnxGraphValueInfo:
			// replaced / dropped
		default:
			rest = append(rest, field...)
		}
	}
	producer := map[string]int{}
	byName := map[string]int{}
	for i, nd := range nodes {
		for _, o := range nd.outputs {
			producer[o] = i
		}
		if nd.name != "" {
			byName[nd.name] = i
		}
	}
	outputs := make([]string, 0, len(keep))
	needed := make([]bool, len(nodes))
	var stack []int
	for _, k := range keep {
		i, ok := byName[k]
		if !ok {
			return nil, nil, fmt.Errorf("%w: no node named %q", errONNX, k)
		}
		if len(nodes[i].outputs) == 0 || nodes[i].outputs[0] == "" {
			return nil, nil, fmt.Errorf("%w: node %q has no output", errONNX, k)
		}
		outputs = append(outputs, nodes[i].outputs[0])
		stack = append(stack, i)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if needed[i] {
			continue
		}
		needed[i] = true
		for _, in := range nodes[i].inputs {
			if p, ok := producer[in]; ok && !needed[p] {
				stack = append(stack, p)
			}
		}
	}
	var out []byte
	for i, nd := range nodes {
		if needed[i] {
			out = protowire.AppendTag(out, onnxGraphNode, protowire.BytesType)
			out = protowire.AppendBytes(out, nd.raw)
		}
	}
	out = append(out, rest...)
	for _, name := range outputs {
		var vi []byte
		vi = protowire.AppendTag(vi, onnxValueInfoName, protowire.BytesType)
		vi = protowire.AppendString(vi, name)
		vi = protowire.AppendTag(vi, onnxValueInfoType, protowire.BytesType)
		vi = protowire.AppendBytes(vi, floatTensorType)
		out = protowire.AppendTag(out, onnxGraphOutput, protowire.BytesType)
		out = protowire.AppendBytes(out, vi)
	}
	return out, outputs, nil
}

func parseNode(raw []byte) (onnxNode, error) {
	nd := onnxNode{raw: raw}
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nd, fmt.Errorf("%w: node: %v", errONNX, protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nd, fmt.Errorf("%w: node field %d: %v", errONNX, num, protowire.ParseError(m))
		}
		if typ == protowire.BytesType && (num == onnxNodeInput || num == onnxNodeOutput || num == onnxNodeName) {
			v, _ := protowire.ConsumeBytes(b[n:])
			switch num {
			case onnxNodeInput:
				nd.inputs = append(nd.inputs, string(v))
			case onnxNodeOutput:
				nd.outputs = append(nd.outputs, string(v))
			case onnxNodeName:
				nd.name = string(v)
			}
		}
		b = b[n+m:]
	}
	return nd, nil
}
