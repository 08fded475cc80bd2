"""Seed 000's own training loop: the hand-derived scalar Python of "Exercise project X".

The updates are the document's, written out weight by weight as it wrote them, with one
change: the document's derivatives leave out the output node's ReLU (its node 3 output
goes through ``activation_ReLu`` in the forward pass but not in the chain rule). Here each
derivative carries the factor ``activation_ReLu_partial_derivative(node 3 input)``, so
the loop trains the same network as fastnn and gives the same numbers, bit for bit
(multiplying by 2 and by a 0/1 derivative is exact, so the document's grouping rounds
like fastnn's).

The other changes are the ones a benchmark needs: the loop is a function of its inputs,
it runs ``epochs`` times over ``data`` and records the mean loss of each epoch (the
document appends the last sample's loss), and nothing is printed.
"""


# The document's own two helpers, as fastnn.seeds.seed000 transcribes them.
from fastnn.seeds.seed000 import activation_ReLu, activation_ReLu_partial_derivative  # noqa: E402


def train(weights, data, LR, epochs):
    """Train from ``weights`` (seed 000's names: w1..w6, bias1..bias3) on ``data``.

    ``data`` is a list of rows [input1, input2, true_value] as the document's
    ``generate_train_data`` makes them. Returns (new weights dict, loss_points), where
    loss_points[e] is the mean per-sample loss of epoch e (each before its update).
    """
    w1, w2, w3, w4 = weights["w1"], weights["w2"], weights["w3"], weights["w4"]
    w5, w6 = weights["w5"], weights["w6"]
    bias1, bias2, bias3 = weights["bias1"], weights["bias2"], weights["bias3"]
    loss_points = []
    for epoch in range(epochs):
        epoch_loss = 0.0
        for row in data:
            input1 = row[0]  # first feature
            input2 = row[1]  # second feature
            true_value = row[2]  # true value

            # NODE 1 OUTPUT
            node_1_output = input1 * w1 + input2 * w3 + bias1
            node_1_output = activation_ReLu(node_1_output)

            # NODE 2 OUTPUT
            node_2_output = input1 * w2 + input2 * w4 + bias2
            node_2_output = activation_ReLu(node_2_output)

            # NODE 3 OUTPUT
            node_3_output = node_1_output * w5 + node_2_output * w6 + bias3
            node_3_output = activation_ReLu(node_3_output)

            predicted_value = node_3_output
            loss = (predicted_value - true_value) ** 2
            epoch_loss += loss

            # solve w5 and update the new value (output ReLU derivative added)
            deriv_L_w5 = 2 * node_1_output * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                              true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            new_w5 = w5 - LR * deriv_L_w5

            # solve w6 and update the new value
            deriv_L_w6 = 2 * node_2_output * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                              true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            new_w6 = w6 - LR * deriv_L_w6

            # solve bias3 and update the new value
            deriv_L_b3 = 2 * 1 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                  true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            new_b3 = bias3 - LR * deriv_L_b3

            # weight 1
            deriv_L_w1_left = 2 * w5 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                        true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            deriv_L_w1_right = activation_ReLu_partial_derivative(input1 * w1 + input2 * w3
                                                                  + bias1) * input1
            deriv_L_w1 = deriv_L_w1_left * deriv_L_w1_right
            new_w1 = w1 - LR * deriv_L_w1

            # weight 2
            deriv_L_w2_left = 2 * w6 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                        true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            deriv_L_w2_right = activation_ReLu_partial_derivative(input1 * w2 + input2 * w4
                                                                  + bias2) * input1
            deriv_L_w2 = deriv_L_w2_left * deriv_L_w2_right
            new_w2 = w2 - LR * deriv_L_w2

            # weight 3
            deriv_L_w3_left = 2 * w5 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                        true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            deriv_L_w3_right = activation_ReLu_partial_derivative(input1 * w1 + input2 * w3
                                                                  + bias1) * input2
            deriv_L_w3 = deriv_L_w3_left * deriv_L_w3_right
            new_w3 = w3 - LR * deriv_L_w3

            # weight 4
            deriv_L_w4_left = 2 * w6 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                        true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            deriv_L_w4_right = activation_ReLu_partial_derivative(input1 * w2 + input2 * w4
                                                                  + bias2) * input2
            deriv_L_w4 = deriv_L_w4_left * deriv_L_w4_right
            new_w4 = w4 - LR * deriv_L_w4

            # bias 1
            deriv_L_b1_left = 2 * w5 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                        true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            deriv_L_b1_right = activation_ReLu_partial_derivative(input1 * w1 + input2 * w3
                                                                  + bias1) * 1
            deriv_L_b1 = deriv_L_b1_left * deriv_L_b1_right
            new_b1 = bias1 - LR * deriv_L_b1

            # bias 2
            deriv_L_b2_left = 2 * w6 * (node_1_output * w5 + node_2_output * w6 + bias3 -
                                        true_value) * activation_ReLu_partial_derivative(
                node_1_output * w5 + node_2_output * w6 + bias3)
            deriv_L_b2_right = activation_ReLu_partial_derivative(input1 * w2 + input2 * w4
                                                                  + bias2) * 1
            deriv_L_b2 = deriv_L_b2_left * deriv_L_b2_right
            new_b2 = bias2 - LR * deriv_L_b2

            # FINALLY UPDATE THE EXISTING WEIGHTS!
            w1 = new_w1
            w2 = new_w2
            w3 = new_w3
            w4 = new_w4
            w5 = new_w5
            w6 = new_w6
            bias1 = new_b1
            bias2 = new_b2
            bias3 = new_b3

        loss_points.append(epoch_loss / len(data))
    new_weights = dict(w1=w1, w2=w2, w3=w3, w4=w4, w5=w5, w6=w6, bias1=bias1, bias2=bias2, bias3=bias3)
    return new_weights, loss_points
