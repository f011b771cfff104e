package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/net/websocket"
)

// bidiConn is a WebDriver BiDi connection: commands with ids answered out
// of order, and events (https://w3c.github.io/webdriver-bidi/).
type bidiConn struct {
	ws      *websocket.Conn
	writeMu sync.Mutex

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan bidiMessage
	onEvent func(method string, params json.RawMessage)
	done    chan struct{} // closed when the connection is gone
	err     error         // why, valid once done is closed
}

type bidiMessage struct {
	Type    string          `json:"type"` // success, error, event
	ID      *int64          `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// bidiError is an error answer to a command.
type bidiError struct{ Method, Code, Message string }

func (e *bidiError) Error() string { return fmt.Sprintf("%s: %s: %s", e.Method, e.Code, e.Message) }

// dialBiDi connects to a BiDi endpoint. Firefox checks the Origin header
// against --remote-allow-origins; x/net/websocket always sends one.
func dialBiDi(ctx context.Context, url string, onEvent func(string, json.RawMessage)) (*bidiConn, error) {
	cfg, err := websocket.NewConfig(url, "http://127.0.0.1")
	if err != nil {
		return nil, err
	}
	ws, err := cfg.DialContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	// Screenshots come as base64 in one message.
	ws.MaxPayloadBytes = 64 << 20
	c := &bidiConn{ws: ws, pending: map[int64]chan bidiMessage{}, onEvent: onEvent, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *bidiConn) read() {
	var err error
	for {
		var m bidiMessage
		if err = websocket.JSON.Receive(c.ws, &m); err != nil {
			break
		}
		if m.Type == "event" {
			if c.onEvent != nil {
				c.onEvent(m.Method, m.Params)
			}
			continue
		}
		if m.ID == nil {
			continue
		}
		c.mu.Lock()
		ch := c.pending[*m.ID]
		delete(c.pending, *m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
	c.mu.Lock()
	c.err = fmt.Errorf("bidi connection closed: %w", err)
	c.mu.Unlock()
	close(c.done)
}

// call sends a command and decodes its result into out (nil: discard).
// It returns when the answer comes, ctx ends or the connection closes.
func (c *bidiConn) call(ctx context.Context, method string, params any, out any) error {
	ctx, cancel := bound(ctx, CallTimeout)
	defer cancel()
	if params == nil {
		params = struct{}{}
	}
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan bidiMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	msg := struct {
		ID     int64  `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params"`
	}{id, method, params}
	c.writeMu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.ws.SetWriteDeadline(dl)
	}
	err := websocket.JSON.Send(c.ws, msg)
	c.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: send: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return &bidiError{Method: method, Code: m.Error, Message: m.Message}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, out); err != nil {
			return fmt.Errorf("%s: decode %.200s: %w", method, m.Result, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%s: %w", method, c.err)
	}
}

func (c *bidiConn) close() error { return c.ws.Close() }

// isUnknownCommand reports whether err says the browser lacks a command.
func isUnknownCommand(err error) bool {
	var be *bidiError
	return errors.As(err, &be) && be.Code == "unknown command"
}
